"""Forms for courses: the plan builder (with device settings and the adjunct formset), overrides, consent,
lifecycle, protocol templates and consent texts. Field validation only; clinical checks come from plans.rules."""

import copy
import datetime as dt

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout, Submit
from django import forms
from django.utils import timezone

from clinic.formkit import DateInput, DateTimeInput, capped_formset_factory, row
from clinic.uploads import DRAWING_PREFIX, drawing_check, image_check, image_decoded
from plans import rules
from plans.models import (
    ConsentKind,
    ConsentText,
    ExosomeProduct,
    Plan,
    ProtocolTemplate,
)
from plans.services.course import (
    ERR_CONSENT_CONFIRM,
    ERR_OVERRIDE_REASON,
    ERR_STOP_REASON,
)

ERR_FOLLOWUPS = "Enter months after the last session as whole numbers from 1 to 24, separated by commas (e.g. 1, 3, 6)."
ERR_START_IN_PAST = "The course cannot start in the past."
ERR_CONFIRM_WARNINGS = "Tick “I confirm these settings” to accept the warnings above."
ERR_STOP_BEFORE_START = "The stop date is before the start date."
ERR_SCAN_TYPE = "The scanned form must be a PDF, JPEG or PNG file."
ERR_SCAN_SIZE = "The scanned form is larger than {mb} MB."
ERR_SCAN_INCOMPLETE = "The scanned PDF is incomplete (it has no end); save or scan it again."
ERR_SIGNED_FUTURE = "The signing time cannot be in the future."
ERR_SIGNATURE = "Type the patient's signature (or draw it)."
SCAN_MAX_MB = 10
FOLLOWUP_MAX_MONTHS = 24

# Magic numbers: the scanned form is checked by content, never by its name.
_SCAN_SIGNATURES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


# --- Device settings ----------------------------------------------------------------------------------------

MN, NAFL, RF = rules.MICRONEEDLING, rules.NAFL, rules.RF_MICRONEEDLING
ZONES = ("forehead", "malar", "chin")
# name -> (form field, modalities it belongs to). Keys match rules.check_device_settings.
DEVICE_FIELDS: dict[str, tuple[forms.Field, tuple[str, ...]]] = {
    "needle_depth_mm": (forms.FloatField(label="Needle depth (mm)", required=False), (MN, RF)),
    "depth_forehead_mm": (forms.FloatField(label="Depth, forehead (mm)", required=False), (MN,)),
    "depth_malar_mm": (forms.FloatField(label="Depth, malar (mm)", required=False), (MN,)),
    "depth_chin_mm": (forms.FloatField(label="Depth, chin (mm)", required=False), (MN,)),
    "speed": (forms.FloatField(label="Pen speed setting", required=False), (MN,)),
    "endpoint": (
        forms.ChoiceField(
            label="Clinical endpoint", required=False,
            choices=[("", "—"), ("erythema", "Erythema only"), ("pinpoint_bleeding", "Pinpoint bleeding")],
        ),
        (MN,),
    ),
    "wavelength_nm": (forms.IntegerField(label="Wavelength (nm)", required=False), (NAFL,)),
    "energy_mj": (forms.FloatField(label="Pulse energy (mJ)", required=False), (NAFL,)),
    "density_percent": (forms.FloatField(label="Density (% coverage)", required=False), (NAFL,)),
    "total_energy_kj": (forms.FloatField(label="Total energy (kJ)", required=False), (NAFL,)),
    "power_level": (forms.FloatField(label="Power / energy level", required=False), (RF,)),
    "pulse_duration_ms": (forms.FloatField(label="Pulse duration (ms)", required=False), (RF,)),
    "pins": (forms.IntegerField(label="Tip pin count", required=False), (RF,)),
    "passes": (forms.IntegerField(label="Passes", required=False), (MN, NAFL, RF)),
    "cooling": (forms.BooleanField(label="Cooling", required=False), (MN, NAFL, RF)),
    "device_note": (forms.CharField(label="Settings note", required=False, max_length=300), (MN, NAFL, RF)),
}


def device_initial(settings: dict) -> dict:
    """A stored device_settings dict as form initial values (zone mapping spread over the zone fields)."""
    initial = {name: settings[name] for name in DEVICE_FIELDS if name in settings}
    if "note" in settings:
        initial["device_note"] = settings["note"]
    zones = settings.get(rules.ZONE_DEPTHS_FIELD)
    if isinstance(zones, dict):
        for zone in ZONES:
            if zones.get(zone) is not None:
                initial[f"depth_{zone}_mm"] = zones[zone]
    return initial


def device_settings_from(cleaned: dict, modality: str) -> dict:
    settings = {}
    for name, (_field, modalities) in DEVICE_FIELDS.items():
        value = cleaned.get(name)
        if modality not in modalities or value in (None, ""):
            continue
        if name == "cooling" and not value:
            continue
        settings["note" if name == "device_note" else name] = value
    return settings


class DeviceSettingsMixin:
    """Adds the device fields, checks them with rules.check_device_settings, and asks for confirmation of
    warnings (published melasma ranges, unusual course size or interval)."""

    sessions_field = "sessions_planned"
    patient = None  # set by forms for one patient: typed settings are checked against their skin type (S18)

    def add_device_fields(self):
        for name, (field, _modalities) in DEVICE_FIELDS.items():
            self.fields[name] = copy.deepcopy(field)
        self.fields["confirm_settings"] = forms.BooleanField(label="I confirm these settings", required=False)
        self.warnings: list[str] = []

    def clean_device_settings(self, cleaned):
        modality = cleaned.get("modality")
        if modality not in rules.MODALITIES:
            return cleaned
        settings = device_settings_from(cleaned, modality)
        check = rules.check_device_settings(
            modality, settings, self.cfg, for_patient=self.patient is not None,
            fitzpatrick=self.patient.fitzpatrick_type if self.patient is not None else None,
        )
        for key, message in check.errors.items():
            self.add_error(key if key in self.fields else None, message)
        warnings = [f"{self.fields[k].label if k in self.fields else k}: {m}" for k, m in check.warnings.items()]
        sessions = cleaned.get(self.sessions_field)
        if sessions:
            try:
                warning = rules.course_size_warning(sessions)
            except ValueError:
                warning = None
            if warning:
                warnings.append(warning)
        if cleaned.get("interval_days"):
            warning = rules.interval_warning(cleaned["interval_days"])
            if warning:
                warnings.append(warning)
        self.warnings = warnings
        if warnings and not cleaned.get("confirm_settings") and not getattr(self, "previewing", False):
            self.add_error("confirm_settings", ERR_CONFIRM_WARNINGS)
        cleaned["device_settings"] = settings
        return cleaned


_MODALITY_LABELS = dict(rules.MODALITY_CHOICES)


def _device_layout():
    """Device fields grouped by the modalities they belong to; static/js/course.js shows the chosen ones."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for name, (_field, modalities) in DEVICE_FIELDS.items():
        groups.setdefault(modalities, []).append(name)
    rows = []
    for modalities, names in groups.items():
        every = len(modalities) == len(rules.MODALITIES)
        rows.append(
            Div(
                *[Div(n, css_class="col-md-3") for n in names],
                css_class="row device-fields",
                data_modality="all" if every else " ".join(modalities),
                title="" if every else "Settings for " + " and ".join(_MODALITY_LABELS[m] for m in modalities),
            )
        )
    return rows


class FollowupMonthsField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value.strip():
            return []
        try:
            months = sorted({int(part) for part in value.replace(";", ",").split(",") if part.strip()})
        except ValueError as exc:
            raise forms.ValidationError(ERR_FOLLOWUPS) from exc
        if any(not 1 <= m <= FOLLOWUP_MAX_MONTHS for m in months):
            raise forms.ValidationError(ERR_FOLLOWUPS)
        return months

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return ", ".join(str(v) for v in value)
        return value


# --- Adjuncts -----------------------------------------------------------------------------------------------


class AdjunctForm(forms.Form):
    agent = forms.ChoiceField(choices=[("", "—")] + rules.AGENT_CHOICES)
    strength = forms.CharField(max_length=40, required=False)
    frequency = forms.CharField(max_length=60, required=False)
    start_date = forms.DateField(required=False, widget=DateInput(), label="Start")
    stop_date = forms.DateField(required=False, widget=DateInput(), label="Stop")
    pause_days_before = forms.IntegerField(
        min_value=0, max_value=30, required=False, label="Pause before session (days)",
        help_text="Blank = the usual pause for this agent",
    )
    notes = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, dates=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not dates:
            del self.fields["start_date"], self.fields["stop_date"]
        for field in self.fields.values():
            css = "form-select form-select-sm" if isinstance(field, forms.ChoiceField) else "form-control form-control-sm"
            field.widget.attrs["class"] = css

    def clean(self):
        cleaned = super().clean()
        start, stop = cleaned.get("start_date"), cleaned.get("stop_date")
        if start and stop and stop < start:
            self.add_error("stop_date", ERR_STOP_BEFORE_START)
        if cleaned.get("agent") and cleaned.get("pause_days_before") is None:
            cleaned["pause_days_before"] = rules.DEFAULT_PAUSE_DAYS.get(cleaned["agent"], 0)  # S35, S70
        return cleaned


ADJUNCTS_MAX = 12
ERR_TOO_MANY_ADJUNCTS = "A plan can list at most %(num)d adjuncts. Remove some rows; nothing was saved."
AdjunctFormSet = capped_formset_factory(AdjunctForm, max_num=ADJUNCTS_MAX, too_many=ERR_TOO_MANY_ADJUNCTS,
                                        extra=0, can_delete=True)


def adjunct_rows(formset) -> list[dict]:
    """The filled, not-removed rows of a valid adjunct formset."""
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE") or not data.get("agent"):
            continue
        rows.append({k: v for k, v in data.items() if k != "DELETE"})
    return rows


def adjunct_initial(adjuncts) -> list[dict]:
    """Initial formset rows from template JSON (dicts) or PlanAdjunct rows."""
    rows = []
    for item in adjuncts:
        if isinstance(item, dict):
            rows.append({k: item.get(k) for k in AdjunctForm.base_fields if k in item})
        else:
            rows.append({k: getattr(item, k) for k in AdjunctForm.base_fields})
    return rows


# --- Plan builder -------------------------------------------------------------------------------------------

PLAN_FORM_FIELDS = [
    "modality", "device_name", "sessions_planned", "interval_days", "window_before_days", "window_after_days",
    "start_date", "exosome_product", "spf", "broad_spectrum", "tinted_iron_oxide", "reapply_hours", "sun_notes",
    "goals", "notes",
]


class TemplateChoiceForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=ProtocolTemplate.objects.filter(is_active=True), required=False, label="Start from template",
        empty_label="— no template —",
    )


class PlanForm(DeviceSettingsMixin, forms.ModelForm):
    followup_months = FollowupMonthsField(
        label="Follow-up visits (months after the last session)", required=False, initial="1, 3, 6"
    )
    template = forms.ModelChoiceField(queryset=ProtocolTemplate.objects.all(), required=False, widget=forms.HiddenInput)

    class Meta:
        model = Plan
        fields = PLAN_FORM_FIELDS
        widgets = {
            "start_date": DateInput(),
            "goals": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "sessions_planned": "Number of sessions",
            "interval_days": "Interval (days)",
            "window_before_days": "Window: days before target",
            "window_after_days": "Window: days after target",
            "reapply_hours": "Reapply every (hours)",
        }

    def __init__(self, *args, cfg: rules.RuleConfig, creating: bool, patient=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cfg = cfg
        self.creating = creating
        self.patient = patient
        self.previewing = False
        self.add_device_fields()
        if not creating and self.instance.pk:
            self.initial.update(device_initial(self.instance.device_settings or {}))
            self.initial.setdefault("followup_months", self.instance.followup_months)
            if self.instance.state == "active":
                self.fields["modality"].disabled = True
                self.fields["modality"].help_text = "Fixed once the plan is active: consent was given for it."
        self.fields["exosome_product"].queryset = ExosomeProduct.objects.filter(is_active=True)
        self.fields["modality"].widget.attrs["data-modality-select"] = "1"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            "template",
            Fieldset(
                "Treatment and device",
                row("modality", "device_name"),
                *_device_layout(),
                "exosome_product",
            ),
            Fieldset(
                "Course",
                row("start_date", "sessions_planned", "interval_days"),
                row("window_before_days", "window_after_days", "followup_months"),
            ),
            Fieldset(
                "Sun protection",
                row("spf", "reapply_hours"),
                row("broad_spectrum", "tinted_iron_oxide"),
                "sun_notes",
            ),
            Fieldset("Goals and notes", "goals", "notes"),
        )

    def clean_start_date(self):
        start = self.cleaned_data["start_date"]
        if self.creating and start and start < timezone.localdate():
            raise forms.ValidationError(ERR_START_IN_PAST)
        return start

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.fields["modality"].disabled:
            cleaned["modality"] = self.instance.modality
        return self.clean_device_settings(cleaned)

    def plan_fields(self) -> dict:
        data = self.cleaned_data
        fields = {name: data[name] for name in PLAN_FORM_FIELDS if name in data}
        fields["device_settings"] = data["device_settings"]
        fields["followup_months"] = data["followup_months"]
        return fields


def plan_initial_from_template(template: ProtocolTemplate | None, patient, cfg: rules.RuleConfig) -> dict:
    """Builder defaults: the template's values, device settings made conservative for the patient's skin type."""
    start = timezone.localdate() + dt.timedelta(days=7)
    if template is None:
        modality = rules.MICRONEEDLING
        settings = rules.conservative_device_settings(modality, patient.fitzpatrick_type, {}, cfg)
        return {
            "modality": modality, "sessions_planned": 4, "interval_days": cfg.default_interval_days,
            "window_before_days": cfg.window_before_days, "window_after_days": cfg.window_after_days,
            "followup_months": list(cfg.followup_months), "start_date": start, **device_initial(settings),
        }
    settings = rules.conservative_device_settings(template.modality, patient.fitzpatrick_type, template.device_settings, cfg)
    return {
        "template": template.pk, "modality": template.modality, "device_name": template.device_name,
        "sessions_planned": template.sessions, "interval_days": template.interval_days,
        "window_before_days": template.window_before_days, "window_after_days": template.window_after_days,
        "start_date": start, "exosome_product": template.exosome_product_id,
        "followup_months": template.followup_months, "spf": template.spf, "broad_spectrum": template.broad_spectrum,
        "tinted_iron_oxide": template.tinted_iron_oxide, "reapply_hours": template.reapply_hours,
        "sun_notes": template.sun_notes, **device_initial(settings),
    }


# --- Overrides, consent, lifecycle --------------------------------------------------------------------------


class OverrideForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, max_length=60)
    reason = forms.CharField(
        label="Reason to proceed", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
        error_messages={"required": ERR_OVERRIDE_REASON},
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(ERR_OVERRIDE_REASON)
        return reason


class StopForm(forms.Form):
    reason = forms.CharField(
        label="Reason for stopping", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
        error_messages={"required": ERR_STOP_REASON},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("stop", "Stop the plan", css_class="btn-danger"))


class ConsentForm(forms.Form):
    patient_printed_name = forms.CharField(label="Patient's printed name", max_length=200)
    signature = forms.CharField(
        label="Patient's signature (typed)", max_length=200, required=False,
        help_text="The patient types their name as signature, or draws it below.",
    )
    signature_drawing = forms.CharField(widget=forms.HiddenInput, required=False, max_length=400_000)
    patient_confirms = forms.BooleanField(
        label="The patient confirms they have read and understood this text, had their questions answered, "
        "and agree to the treatment",
        error_messages={"required": ERR_CONSENT_CONFIRM},
    )
    witness_name = forms.CharField(label="Witness name", max_length=200)
    signed_at = forms.DateTimeField(label="Date and time signed", widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"])
    scanned_form = forms.FileField(label="Scanned paper form (optional: PDF, JPEG or PNG)", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"enctype": "multipart/form-data"}
        self.helper.layout = Layout(
            row("patient_printed_name", "witness_name"),
            "signature",
            HTML(
                '<div class="mb-3 d-print-none"><label class="form-label" for="signature-pad">Or draw the signature</label>'
                '<canvas id="signature-pad" class="signature-pad border rounded d-block" width="500" height="140" '
                'aria-label="Signature drawing area"></canvas>'
                '<button type="button" class="btn btn-sm btn-outline-secondary mt-1" data-signature-clear>Clear drawing</button></div>'
            ),
            "signature_drawing",
            "signed_at",
            "scanned_form",
            Field("patient_confirms"),
        )
        self.helper.add_input(Submit("record", "Record consent"))

    def clean_signed_at(self):
        signed_at = self.cleaned_data["signed_at"]
        if signed_at > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(ERR_SIGNED_FUTURE)
        return signed_at

    def clean_signature_drawing(self):
        drawing = self.cleaned_data["signature_drawing"]
        if drawing and not drawing.startswith(DRAWING_PREFIX):
            return ""
        return drawing_check(drawing) if drawing else drawing

    def clean_scanned_form(self):
        upload = self.cleaned_data.get("scanned_form")
        if not upload:
            return upload
        if upload.size > SCAN_MAX_MB * 1024 * 1024:
            raise forms.ValidationError(ERR_SCAN_SIZE.format(mb=SCAN_MAX_MB))
        head = upload.read(16)
        upload.seek(0)
        kind = next((kind for magic, kind in _SCAN_SIGNATURES.items() if head.startswith(magic)), None)
        if kind is None:
            raise forms.ValidationError(ERR_SCAN_TYPE)
        if kind == "application/pdf":
            # Never parsed here, but a PDF cut off in transit has no end-of-file marker near its end.
            upload.seek(max(0, upload.size - 2048))
            tail = upload.read()
            upload.seek(0)
            if b"%%EOF" not in tail:
                raise forms.ValidationError(ERR_SCAN_INCOMPLETE)
        else:
            # A scan is an image like any other: the project's one image check (pixel limit before decoding),
            # then decoded once so a truncated scan is refused now rather than found unreadable later.
            try:
                image_check(upload)
                image_decoded(upload).close()
            except forms.ValidationError as exc:
                raise forms.ValidationError(ERR_SCAN_TYPE if exc.code == "image_type" else exc.messages) from exc
        return upload

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("signature") or "").strip() and not cleaned.get("signature_drawing"):
            self.add_error("signature", ERR_SIGNATURE)
        return cleaned

    def signature_value(self) -> str:
        return self.cleaned_data.get("signature_drawing") or self.cleaned_data["signature"].strip()


# --- Manager pages ------------------------------------------------------------------------------------------

TEMPLATE_FORM_FIELDS = [
    "name", "modality", "sessions", "interval_days", "window_before_days", "window_after_days", "device_name",
    "exosome_product", "spf", "broad_spectrum", "tinted_iron_oxide", "reapply_hours", "sun_notes", "notes",
    "is_active",
]


class ProtocolTemplateForm(DeviceSettingsMixin, forms.ModelForm):
    sessions_field = "sessions"
    followup_months = FollowupMonthsField(label="Follow-up visits (months after the last session)", required=False)

    class Meta:
        model = ProtocolTemplate
        fields = TEMPLATE_FORM_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        labels = {"sessions": "Number of sessions", "interval_days": "Interval (days)"}

    def __init__(self, *args, cfg: rules.RuleConfig, **kwargs):
        super().__init__(*args, **kwargs)
        self.cfg = cfg
        self.add_device_fields()
        if self.instance.pk:
            self.initial.update(device_initial(self.instance.device_settings or {}))
            self.initial.setdefault("followup_months", self.instance.followup_months)
        else:
            self.initial.setdefault("followup_months", list(cfg.followup_months))
            self.initial.setdefault("window_before_days", cfg.window_before_days)
            self.initial.setdefault("window_after_days", cfg.window_after_days)
            self.initial.setdefault("interval_days", cfg.default_interval_days)
        self.fields["modality"].widget.attrs["data-modality-select"] = "1"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset("Template", row("name", "modality"), "is_active"),
            Fieldset("Device", "device_name", *_device_layout(), "exosome_product"),
            Fieldset(
                "Course",
                row("sessions", "interval_days"),
                row("window_before_days", "window_after_days", "followup_months"),
            ),
            Fieldset("Sun protection", row("spf", "reapply_hours"), row("broad_spectrum", "tinted_iron_oxide"), "sun_notes"),
            "notes",
        )

    def clean(self):
        return self.clean_device_settings(super().clean())

    def template_fields(self) -> dict:
        data = self.cleaned_data
        fields = {name: data[name] for name in TEMPLATE_FORM_FIELDS if name in data}
        fields["device_settings"] = data["device_settings"]
        fields["followup_months"] = data["followup_months"]
        return fields


class ConsentTextForm(forms.ModelForm):
    class Meta:
        model = ConsentText
        fields = ["kind", "title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 16})}
        help_texts = {"body": "Publishing creates a new version; earlier versions stay exactly as patients read them."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ConsentKind.choices
        self.helper = FormHelper()
        self.helper.add_input(Submit("publish", "Publish new version"))
