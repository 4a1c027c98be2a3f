"""Forms of the visits area. Field validation only: clinical checks (device ranges, lot usability, scores) are
made by plans.services.visits through plans.rules, and the view puts their errors back on these fields."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout, Submit
from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from clinic.formkit import DateInput, DateTimeInput, QueryDateField, row
from plans import rules
from plans.models.products import LabelledRoute
from plans.models.visits import EXOSOME_DELIVERY_CHOICES
from plans.models import (
    AdverseEventOutcome,
    AssessmentKind,
    ExosomeProduct,
    Lot,
    PhotoView,
)
from plans.services.visits import SessionRecord, photo_check_upload

ERR_MELASQOL_PARTIAL = "Fill in all 10 MELASQOL items, or none."
ERR_PERIOD = "The start of the period must be before its end."
ERR_DATE_IN_FUTURE = "This date cannot be in the future."


def _number(label, *, required=False, help_text=""):
    # No min/max here: plans.rules.check_device_settings decides what is impossible or unusual.
    return forms.FloatField(label=label, required=required, help_text=help_text)


def _count(label, *, required=False):
    return forms.IntegerField(label=label, required=required)


# Device settings per modality (domain reference §2.1, §2.2, §2.4). Keys match plans.rules.check_device_settings.
def modality_fields(modality: str) -> dict[str, forms.Field]:
    if modality == rules.MICRONEEDLING:
        return {
            "device_type": forms.ChoiceField(
                label="Device type", required=False,
                choices=[("", "—"), ("pen", "Pen"), ("roller", "Roller"), ("stamp", "Stamp")],
            ),
            "needle_count": _count("Cartridge needle count"),
            "depth_forehead_mm": _number("Needle depth, forehead (mm)", required=True),
            "depth_malar_mm": _number("Needle depth, malar (mm)", required=True),
            "depth_chin_mm": _number("Needle depth, chin (mm)", required=True),
            "passes": _count("Passes", required=True),
            "direction": forms.CharField(label="Direction", required=False, max_length=60),
            "speed": _number("Pen speed setting"),
            "endpoint": forms.ChoiceField(
                label="Clinical endpoint", required=True,
                choices=[("erythema", "Erythema only"), ("pinpoint_bleeding", "Pinpoint bleeding")],
            ),
        }
    if modality == rules.NAFL:
        return {
            "wavelength_nm": _count("Wavelength (nm)", required=True),
            "energy_mj": _number("Pulse energy (mJ)", required=True),
            "density_percent": _number("Density or coverage (%)", required=True),
            "passes": _count("Passes", required=True),
            "tip": forms.CharField(label="Tip or spot size", required=False, max_length=60),
            "cooling": forms.BooleanField(label="Cooling used", required=False),
            "total_energy_kj": _number("Total energy (kJ)"),
        }
    return {
        "electrode_type": forms.ChoiceField(
            label="Electrode type", required=False,
            choices=[("", "—"), ("insulated", "Insulated"), ("non_insulated", "Non-insulated"),
                     ("bipolar", "Bipolar"), ("pulsed", "Pulsed")],
        ),
        "frequency_mhz": _number("Frequency (MHz)"),
        "needle_depth_mm": _number("Needle depth (mm)", required=True),
        "power_level": _number("Power or energy level", required=True),
        "pulse_duration_ms": _number("Pulse duration (ms)"),
        "pins": _count("Tip pin count"),
        "passes": _count("Passes", required=True),
        "cooling": forms.BooleanField(label="Cooling used", required=False),
    }


def device_initial(modality: str, plan_settings: dict, fitzpatrick: int | None) -> dict:
    """Prefill: the plan's settings first, then conservative suggestions from the rules (S15, S18)."""
    initial = {}
    if fitzpatrick:
        suggested = rules.suggest_device_settings(modality, fitzpatrick)
        depth = suggested.pop("needle_depth_mm", None)
        if depth is not None and modality == rules.MICRONEEDLING:
            initial.update({f"depth_{zone}_mm": depth for zone in ("forehead", "malar", "chin")})
        elif depth is not None:
            initial["needle_depth_mm"] = depth
        initial.update(suggested)
    for key, value in (plan_settings or {}).items():
        if key == rules.ZONE_DEPTHS_FIELD and isinstance(value, dict):
            for zone, mm in value.items():
                initial[f"depth_{zone}_mm"] = mm
        else:
            initial[key] = value
    fields = modality_fields(modality)
    return {key: value for key, value in initial.items() if key in fields}


class ClinicianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.username


class LotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, lot):
        label = f"{lot.product.name} · lot {lot.number} · expires {lot.expiry_date:%Y-%m-%d}"
        if lot.recalled_at:
            label += " · RECALLED"
        elif lot.expiry_date < timezone.localdate():
            label += " · expired"
        return label


class SessionRecordForm(forms.Form):
    """What was done at the session; the device fields depend on the plan's modality."""

    performed_at = forms.DateTimeField(label="Performed at", widget=DateTimeInput())
    performed_by = ClinicianChoiceField(label="Performed by", queryset=User.objects.none())
    device_name = forms.CharField(label="Device (make and model)", max_length=120)
    exosome_lot = LotChoiceField(label="Exosome product and lot", queryset=Lot.objects.none(), required=False)
    exosome_volume_ml = forms.DecimalField(
        label="Volume (mL)", max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
    exosome_applied = forms.ChoiceField(
        label="When the exosomes were applied", required=False,
        choices=[("", "—"), *rules.EXOSOME_APPLIED_CHOICES],
    )
    exosome_delivery = forms.ChoiceField(
        label="How the exosomes were delivered", required=False, choices=[("", "—"), *EXOSOME_DELIVERY_CHOICES]
    )
    delivery_confirmed = forms.BooleanField(
        label="I confirm injecting a product labelled for topical use only is intended", required=False
    )
    delivery_note = forms.CharField(
        label="Note on the off-label delivery", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    zones = forms.CharField(label="Treated zones", max_length=200, required=False)
    anaesthetic = forms.CharField(label="Anaesthetic", max_length=120, required=False)
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    confirm_warnings = forms.BooleanField(
        label="I confirm the settings outside the usual range are intended", required=False
    )
    out_of_window_reason = forms.CharField(
        label="Reason for treating outside the session's window", required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed only when the day is outside the window shown above; kept with the session.",
    )

    submit_label = "Record session"

    def __init__(self, *args, modality: str, lots, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.modality = modality
        self.device_field_names = list(modality_fields(modality))
        self.fields.update(modality_fields(modality))
        self.fields["exosome_lot"].queryset = lots
        self.fields["performed_by"].queryset = clinicians
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset("When and who", row("performed_at", "performed_by")),
            Fieldset("Device settings", "device_name", Div(
                *[Div(name, css_class="col-md-4") for name in self.device_field_names], css_class="row"
            )),
            Fieldset("Exosome product", "exosome_lot", row("exosome_volume_ml", "exosome_applied", "exosome_delivery"),
                     "delivery_confirmed", "delivery_note"),
            Fieldset("Treatment", row("zones", "anaesthetic"), "notes"),
            *self.extra_layout(),
            Field("confirm_warnings"),
        )
        self.helper.add_input(Submit("submit", self.submit_label))

    def extra_layout(self):
        return [Fieldset("Outside the window?", "out_of_window_reason")]

    def device_settings(self) -> dict:
        values = {}
        for name in self.device_field_names:
            value = self.cleaned_data.get(name)
            if value is None or value == "":
                continue
            if isinstance(value, float) and value.is_integer() and name in ("wavelength_nm",):
                value = int(value)
            values[name] = value
        return values

    def to_record(self) -> SessionRecord:
        data = self.cleaned_data
        return SessionRecord(
            performed_at=data["performed_at"],
            performed_by=data["performed_by"],
            device_name=data["device_name"],
            device_settings=self.device_settings(),
            exosome_lot=data.get("exosome_lot"),
            exosome_volume_ml=data.get("exosome_volume_ml"),
            exosome_applied=data.get("exosome_applied", ""),
            exosome_delivery=data.get("exosome_delivery", ""),
            delivery_confirmed=bool(data.get("delivery_confirmed")),
            delivery_note=data.get("delivery_note", ""),
            zones=data.get("zones", ""),
            anaesthetic=data.get("anaesthetic", ""),
            notes=data.get("notes", ""),
        )


class SessionAmendForm(SessionRecordForm):
    reason = forms.CharField(label="Reason for the amendment", widget=forms.Textarea(attrs={"rows": 2}))
    submit_label = "Save amendment"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["out_of_window_reason"]  # asked when recording; an amendment has its own reason

    def extra_layout(self):
        return [Fieldset("Why", "reason")]


class SessionSkipForm(forms.Form):
    reason = forms.CharField(label="Why is this session skipped?", max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Skip this session", css_class="btn-warning"))


def session_amend_initial(session) -> dict:
    settings_ = {k: v for k, v in (session.device_settings or {}).items() if k != "confirmed_warnings"}
    initial = {
        "performed_at": timezone.localtime(session.performed_at) if session.performed_at else None,
        "performed_by": session.performed_by_id,
        "device_name": session.device_name,
        "exosome_lot": session.exosome_lot_id,
        "exosome_volume_ml": session.exosome_volume_ml,
        "exosome_applied": session.exosome_applied,
        "exosome_delivery": session.exosome_delivery,
        "delivery_confirmed": session.delivery_confirmed,
        "delivery_note": session.delivery_note,
        "zones": session.zones,
        "anaesthetic": session.anaesthetic,
        "notes": session.notes,
    }
    return initial | settings_


class PreSessionCheckForm(forms.Form):
    """Re-confirmed on the day (§3). Ticking a problem box blocks the session; pauses must be confirmed."""

    pregnant = forms.BooleanField(label="The patient is or may be pregnant", required=False)
    new_medicines = forms.CharField(
        label="New medicines since the last visit", max_length=300, required=False,
        help_text="Leave blank if none. Any new medicine blocks until the screening is updated.",
    )
    recent_sun_or_tan = forms.BooleanField(label="Recent sun exposure, tan, sunburn or self-tanner", required=False)
    active_lesion_or_infection = forms.BooleanField(
        label="Active lesion, infection, open wound or cold sore in the area", required=False
    )
    topical_pauses_kept = forms.BooleanField(
        label="Topical pauses were kept (retinoids, acids, hydroquinone, vitamin C stopped as instructed)",
        required=False,
    )
    antiviral_taken = forms.BooleanField(label="Antiviral prophylaxis taken as prescribed", required=False)

    def __init__(self, *args, hsv_history: bool, pregnancy_applies: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.hsv_history = hsv_history
        if not hsv_history:
            del self.fields["antiviral_taken"]
        if not pregnancy_applies:  # rules.could_be_pregnant: not asked of a man, nor past the configured age
            del self.fields["pregnant"]
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Run pre-session check"))

    def answers(self) -> rules.PreSessionAnswers:
        data = self.cleaned_data
        return rules.PreSessionAnswers(
            pregnant=data.get("pregnant", False),
            new_medicines=data["new_medicines"],
            recent_sun_or_tan=data["recent_sun_or_tan"],
            active_lesion_or_infection=data["active_lesion_or_infection"],
            topical_pauses_kept=data["topical_pauses_kept"],
            antiviral_taken=data["antiviral_taken"] if self.hsv_history else None,
        )


REGION_LABELS = {"forehead": "Forehead", "right_malar": "Right malar", "left_malar": "Left malar", "chin": "Chin"}


class AssessmentForm(forms.Form):
    """MASI components per region (S1); the scores are computed by the service. MELASQOL optional (S6)."""

    kind = forms.ChoiceField(label="Kind", choices=AssessmentKind.choices)
    taken_on = forms.DateField(label="Taken on", widget=DateInput())
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds:
            self.fields["kind"].choices = [(k, label) for k, label in AssessmentKind.choices if k in kinds]
        rows = []
        for region in rules.MASI_REGIONS:
            label = REGION_LABELS[region]
            self.fields[f"{region}_area"] = forms.IntegerField(
                label=f"{label} area (0–6)", min_value=0, max_value=rules.AREA_MAX
            )
            self.fields[f"{region}_darkness"] = forms.IntegerField(
                label=f"{label} darkness (0–4)", min_value=0, max_value=rules.DARKNESS_MAX
            )
            self.fields[f"{region}_homogeneity"] = forms.IntegerField(
                label=f"{label} homogeneity (0–4)", min_value=0, max_value=rules.HOMOGENEITY_MAX
            )
            rows.append(row(f"{region}_area", f"{region}_darkness", f"{region}_homogeneity"))
        for number in range(1, rules.MELASQOL_ITEMS + 1):
            self.fields[f"melasqol_{number}"] = forms.IntegerField(
                label=f"MELASQOL item {number} (1–7)", min_value=rules.MELASQOL_ITEM_MIN,
                max_value=rules.MELASQOL_ITEM_MAX, required=False,
            )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            row("kind", "taken_on"),
            Fieldset(
                "MASI components",
                HTML('<p class="form-text">Area: 0 none, 1 &lt;10%, 2 10–29%, 3 30–49%, 4 50–69%, 5 70–89%, '
                     "6 90–100%. Darkness and homogeneity: 0 absent to 4 maximum. MASI and mMASI are computed "
                     "when you save.</p>"),
                *rows,
            ),
            Fieldset(
                "MELASQOL (optional; 1 = not bothered at all, 7 = bothered all the time)",
                Div(*[Div(f"melasqol_{n}", css_class="col-md-2 col-6") for n in range(1, 11)], css_class="row"),
            ),
            "notes",
        )
        self.helper.add_input(Submit("submit", "Save assessment"))

    def clean(self):
        data = super().clean()
        items = [data.get(f"melasqol_{n}") for n in range(1, rules.MELASQOL_ITEMS + 1)]
        filled = [v for v in items if v is not None]
        if filled and len(filled) != rules.MELASQOL_ITEMS:
            raise forms.ValidationError(ERR_MELASQOL_PARTIAL)
        data["melasqol_items"] = filled or None
        return data

    def components(self) -> dict:
        return {f"{region}_{part}": self.cleaned_data[f"{region}_{part}"]
                for region in rules.MASI_REGIONS for part in ("area", "darkness", "homogeneity")}


class PhotoForm(forms.Form):
    view = forms.ChoiceField(label="View", choices=PhotoView.choices)
    taken_on = forms.DateField(label="Taken on", widget=DateInput())
    image = forms.FileField(
        label="Photo (JPEG or PNG)", widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_enctype = "multipart/form-data"  # FormHelper sets it when a file field is present
        self.helper.add_input(Submit("submit", "Upload photo"))

    def clean_image(self):
        # The service checks again (every path goes through it); here the message lands next to the field even
        # when another field is wrong too.
        upload = self.cleaned_data["image"]
        photo_check_upload(upload)
        return upload


SERIOUS_HELP = (
    "Serious is separate from the grade: death, life-threatening, hospitalisation, persistent disability, or an "
    "important medical event; for cosmetics also infection or significant disfigurement (S75, S58)."
)


class AdverseEventForm(forms.Form):
    ae_type = forms.ChoiceField(label="Type", choices=rules.AE_TYPES)
    onset_date = forms.DateField(label="Onset", widget=DateInput())
    grade = forms.TypedChoiceField(
        label="CTCAE grade", coerce=int, choices=[(g, f"{g} — {text}") for g, text in rules.CTCAE_GRADES]
    )
    serious = forms.BooleanField(label="Serious", required=False, help_text=SERIOUS_HELP)
    description = forms.CharField(label="Description", widget=forms.Textarea(attrs={"rows": 3}))
    action_taken = forms.CharField(label="Action taken", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    lot = LotChoiceField(label="Product lot used", queryset=Lot.objects.none(), required=False)

    submit_label = "Record adverse event"

    def __init__(self, *args, lots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = lots
        self.helper = FormHelper()
        self.helper.layout = Layout(
            row("ae_type", "onset_date"), "grade", "serious", "description", "action_taken", "lot",
            *self.extra_layout(),
        )
        self.helper.add_input(Submit("submit", self.submit_label))

    def extra_layout(self):
        return [Fieldset("Outside the window?", "out_of_window_reason")]


class AdverseEventCorrectForm(AdverseEventForm):
    reason = forms.CharField(label="Reason for the correction", widget=forms.Textarea(attrs={"rows": 2}))
    submit_label = "Save correction"

    def extra_layout(self):
        return ["reason"]


class AdverseEventNoteForm(forms.Form):
    note = forms.CharField(label="Follow-up note", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, action="", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.add_input(Submit("submit", "Add note", css_class="btn-secondary"))


class AdverseEventResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[(AdverseEventOutcome.RESOLVED, "Resolved"), (AdverseEventOutcome.RESOLVED_SEQUELAE, "Resolved with sequelae")],
    )
    resolved_on = forms.DateField(label="Resolved on", widget=DateInput())

    def __init__(self, *args, action="", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.add_input(Submit("submit", "Record outcome", css_class="btn-secondary"))


class PeriodForm(forms.Form):
    date_from = QueryDateField(label="Onset from", widget=DateInput(), required=False)
    date_to = QueryDateField(label="Onset to", widget=DateInput(), required=False)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(ERR_PERIOD)
        return data


class ProductForm(forms.ModelForm):
    class Meta:
        model = ExosomeProduct
        fields = ["name", "manufacturer", "source", "storage_format", "storage_rule", "route_labelled",
                  "regulatory_status", "clinic_decision"]

    def clean_route_labelled(self):
        # Older forms and imports leave it out: a product is taken as topical only unless its label says more.
        return self.cleaned_data.get("route_labelled") or LabelledRoute.TOPICAL_ONLY

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["route_labelled"].required = False
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save product"))


class LotForm(forms.ModelForm):
    class Meta:
        model = Lot
        fields = ["product", "number", "expiry_date", "received_on", "quantity"]
        widgets = {"expiry_date": DateInput(), "received_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = ExosomeProduct.objects.filter(is_active=True)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Receive lot"))


class RecallForm(forms.Form):
    reason = forms.CharField(label="Recall reason", max_length=300)

    def __init__(self, *args, action="", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.add_input(Submit("submit", "Recall this lot", css_class="btn-danger"))
