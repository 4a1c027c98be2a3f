"""Scheduling forms: field validation only; booking rules live in plans.services.scheduling."""

import datetime as dt

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from clinic.formkit import DateInput, QueryDateField, TimeInput, capped_formset_factory, row
from plans.models import (
    AppointmentKind,
    AppointmentLength,
    ClinicianHours,
    Device,
    Room,
)
from plans.forms.course import FOLLOWUP_MAX_MONTHS
from plans.models.course import SESSIONS_MAX
from plans.rules import MODALITY_CHOICES

WEEKDAY_CHOICES = [(n, name) for n, name in enumerate(
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])]
ERR_SESSION_NEEDED = "Choose the session to book."
ERR_HOURS_ORDER = "The end must be after the start."
LENGTH_KIND_CHOICES = MODALITY_CHOICES + [
    (AppointmentKind.FOLLOW_UP.value, "Follow-up assessment"),
    (AppointmentKind.CONSULTATION.value, "Consultation"),
]


def clinicians():
    return User.objects.filter(is_active=True, groups__name="clinician").order_by("last_name", "first_name")


class ClinicianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class CalendarQueryForm(forms.Form):
    date = QueryDateField(required=False)
    by = forms.ChoiceField(choices=[("room", "Room"), ("clinician", "Clinician")], required=False)

    # Each value on its own: a bad "by" does not throw away a good date, nor the other way round.
    def day(self) -> dt.date:
        self.is_valid()
        return self.cleaned_data.get("date") or timezone.localdate()

    def by_value(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("by") or "room"


class _SlotFields(forms.Form):
    date = forms.DateField(widget=DateInput())
    time = forms.TimeField(widget=TimeInput())
    room = forms.ModelChoiceField(queryset=Room.objects.filter(is_active=True))
    device = forms.ModelChoiceField(queryset=Device.objects.filter(is_active=True), required=False)
    clinician = ClinicianChoiceField(queryset=ClinicianHours.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = clinicians()

    def start(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"]))


class CourseSlotForm(_SlotFields):
    """One proposed appointment of a course; the desk may change it or leave it out."""

    include = forms.BooleanField(required=False, initial=True, label="Book")
    key = forms.CharField(widget=forms.HiddenInput)
    field_order = ["include", "date", "time", "room", "device", "clinician"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select form-select-sm"
            elif name not in ("include", "key"):
                field.widget.attrs["class"] = "form-control form-control-sm"
        # A row left out needs no valid slot.
        if self.data and not self.data.get(self.add_prefix("include")):
            for name in ("date", "time", "room", "clinician"):
                self.fields[name].required = False


# A course proposes at most its sessions and one follow-up per month of the follow-up range.
COURSE_SLOTS_MAX = SESSIONS_MAX + FOLLOWUP_MAX_MONTHS
ERR_TOO_MANY_SLOTS = "A course books at most %(num)d appointments at once; nothing was booked."
CourseSlotFormSet = capped_formset_factory(CourseSlotForm, max_num=COURSE_SLOTS_MAX, too_many=ERR_TOO_MANY_SLOTS,
                                           extra=0)


class ConfirmOutsideForm(forms.Form):
    confirm_outside_window = forms.BooleanField(required=False, label="Book even where a session falls outside its window")


class AppointmentForm(_SlotFields):
    kind = forms.ChoiceField(choices=AppointmentKind.choices)
    session = forms.ModelChoiceField(queryset=Room.objects.none(), required=False,
                                     help_text="For a treatment session: which session of the course")
    notes = forms.CharField(max_length=300, required=False)
    confirm_outside_window = forms.BooleanField(required=False, label="Book even if outside the session's window")

    def __init__(self, *args, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = sessions
        self.fields["session"].label_from_instance = lambda s: f"{s.plan.get_modality_display()} · session {s.number}"
        self.helper = FormHelper()
        self.helper.layout = Layout(
            row("kind", "session"), row("date", "time"), row("room", "device", "clinician"), "notes",
            "confirm_outside_window",
        )
        self.helper.add_input(Submit("save", "Book appointment"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == AppointmentKind.SESSION and not cleaned.get("session"):
            self.add_error("session", ERR_SESSION_NEEDED)
        return cleaned


class RescheduleForm(_SlotFields):
    confirm_outside_window = forms.BooleanField(required=False, label="Move even if outside the session's window")
    move_later = forms.BooleanField(
        required=False, initial=True, label="Also move the later sessions of this course by the same offset",
        help_text="You see each proposed slot before anything moves.",
    )

    def __init__(self, *args, later_count: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        fields = ["confirm_outside_window"]
        if later_count:
            self.fields["move_later"].label = (
                f"Also move the {later_count} later session{'s' if later_count > 1 else ''} of this course "
                "by the same offset"
            )
            fields.append("move_later")
        else:
            del self.fields["move_later"]
        self.helper = FormHelper()
        self.helper.layout = Layout(row("date", "time"), row("room", "device", "clinician"), *fields)
        self.helper.add_input(Submit("save", "Move appointment"))


class CascadeRowForm(_SlotFields):
    """One later booking's proposed slot in a reschedule cascade (shown, posted back as hidden fields)."""

    include = forms.BooleanField(required=False, initial=True, label="Move")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("date", "time", "room", "device", "clinician"):
            self.fields[name].widget = forms.HiddenInput()
        if self.data and not self.data.get(self.add_prefix("include")):
            for name in ("date", "time", "room", "clinician"):
                self.fields[name].required = False


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 2}), label="Reason for cancelling")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Cancel appointment", css_class="btn-danger"))


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save room"))


class DeviceForm(forms.ModelForm):
    modalities = forms.MultipleChoiceField(choices=MODALITY_CHOICES, widget=forms.CheckboxSelectMultiple,
                                           help_text="What this device can do")

    class Meta:
        model = Device
        fields = ["name", "modalities", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save device"))


class ClinicianHoursForm(forms.ModelForm):
    clinician = ClinicianChoiceField(queryset=User.objects.none())
    weekday = forms.TypedChoiceField(choices=WEEKDAY_CHOICES, coerce=int)

    class Meta:
        model = ClinicianHours
        fields = ["clinician", "weekday", "start", "end"]
        widgets = {"start": TimeInput(), "end": TimeInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = clinicians()
        self.helper = FormHelper()
        self.helper.layout = Layout(row("clinician", "weekday"), row("start", "end"))
        self.helper.add_input(Submit("save", "Save hours"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] <= cleaned["start"]:
            self.add_error("end", ERR_HOURS_ORDER)
        return cleaned


class AppointmentLengthForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=LENGTH_KIND_CHOICES, label="Appointment type")

    class Meta:
        model = AppointmentLength
        fields = ["kind", "minutes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save length"))
