import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.utils import timezone

from clinic.formkit import DateInput, row
from patients.models import (
    CLINICAL_FIELDS,
    DEMOGRAPHIC_FIELDS,
    SCREENING_FIELDS,
    Patient,
)

OLDEST_PLAUSIBLE_AGE = 120
PHONE_RE = re.compile(r"^\+?[0-9 ()\-]{7,20}$")
DOB_IN_FUTURE = "Date of birth cannot be in the future."
DOB_IMPLAUSIBLE = f"Date of birth is more than {OLDEST_PLAUSIBLE_AGE} years ago; please check it."
PHONE_INVALID = "Enter a phone number of 7–20 digits; spaces, brackets, dashes and a leading + are allowed."
DATE_IN_FUTURE = "This date cannot be in the future."


PREGNANCY_FIELDS = ("is_pregnant", "is_breastfeeding", "pregnancy_status_confirmed_on")


def pregnancy_questions_apply(patient) -> bool:
    """The screening asks about pregnancy only where it can apply (plans.rules.could_be_pregnant, S31)."""
    from plans import rules
    from plans.config import rule_config
    from plans.selectors.course import screening_answers

    return rules.could_be_pregnant(screening_answers(patient), timezone.localdate(), rule_config())


class PatientForm(forms.ModelForm):
    """Demographics and contact, plus melasma history and screening when the user may change them."""

    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS + CLINICAL_FIELDS + SCREENING_FIELDS
        widgets = {
            name: DateInput()
            for name in [
                "date_of_birth", "pregnancy_status_confirmed_on", "isotretinoin_last_dose", "hsv_last_outbreak",
                "last_tan_or_sun_exposure",
            ]
        } | {"address": forms.Textarea(attrs={"rows": 2}), "screening_notes": forms.Textarea(attrs={"rows": 3})}

    confirm_screening = forms.BooleanField(
        label="The patient has confirmed all the screening answers above as true today", required=False,
        help_text="Leave unticked when only correcting other details: the screening stays dated as it was.",
    )

    def __init__(self, *args, clinical: bool, **kwargs):
        super().__init__(*args, **kwargs)
        # On a new patient, entering the answers is confirming them (patients.services.patient_create).
        if not clinical or self.instance.pk is None:
            del self.fields["confirm_screening"]
        if not clinical:
            for name in CLINICAL_FIELDS + SCREENING_FIELDS:
                del self.fields[name]
        elif self.instance.pk is not None and not pregnancy_questions_apply(self.instance):
            for name in PREGNANCY_FIELDS:  # a man, or past the age they are asked at (rules.could_be_pregnant)
                del self.fields[name]
        self.helper = FormHelper()
        sections = [
            Fieldset(
                "Patient",
                row("first_name", "last_name"),
                row("mrn", "date_of_birth", "sex"),
            ),
            Fieldset("Contact", row("phone", "email"), "email_consent", "address", "emergency_contact"),
        ]
        if clinical:
            sections += [
                Fieldset(
                    "Skin and melasma history",
                    row("fitzpatrick_type", "woods_lamp_type", "melasma_onset_year"),
                    row("trigger_pregnancy", "trigger_hormonal_contraception", "trigger_sun"),
                    "trigger_other",
                ),
                Fieldset(
                    "Screening",
                    *([row(*PREGNANCY_FIELDS)] if "is_pregnant" in self.fields else []),
                    row("isotretinoin_last_dose", "last_tan_or_sun_exposure"),
                    row("hsv_history", "hsv_last_outbreak"),
                    row("active_infection_or_lesion", "keloid_tendency", "anticoagulants"),
                    row("thrombosis_history", "hormonal_contraception", "smoker"),
                    row("pacemaker_or_implant", "metal_implants_face", "gold_threads_face"),
                    row("autoimmune_or_immunosuppressed", "uncontrolled_diabetes", "renal_impairment"),
                    "photosensitising_medicines",
                    "allergies",
                    "screening_notes",
                    *(["confirm_screening"] if "confirm_screening" in self.fields else []),
                ),
            ]
        self.helper.layout = Layout(*sections)
        self.helper.add_input(Submit("save", "Save patient"))

    def clean_date_of_birth(self):
        dob = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()  # the clinic's today, not the server's
        if dob > today:
            raise forms.ValidationError(DOB_IN_FUTURE)
        if dob.year < today.year - OLDEST_PLAUSIBLE_AGE:
            raise forms.ValidationError(DOB_IMPLAUSIBLE)
        return dob

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not PHONE_RE.match(phone):
            raise forms.ValidationError(PHONE_INVALID)
        return phone

    def clean_mrn(self):
        return self.cleaned_data["mrn"].strip().upper()

    def clean_melasma_onset_year(self):
        year = self.cleaned_data.get("melasma_onset_year")
        if year is not None and not (1900 <= year <= timezone.localdate().year):
            raise forms.ValidationError(f"Enter a year between 1900 and {timezone.localdate().year}.")
        return year

    def clean(self):
        cleaned = super().clean()
        for name in ["pregnancy_status_confirmed_on", "isotretinoin_last_dose", "hsv_last_outbreak",
                     "last_tan_or_sun_exposure"]:
            value = cleaned.get(name)
            if value and value > timezone.localdate():
                self.add_error(name, DATE_IN_FUTURE)
        if cleaned.get("email_consent") and not cleaned.get("email"):
            self.add_error("email", "Enter an email address, or untick 'agrees to email'.")
        return cleaned


IMPORT_BUTTON = "fhir_import"  # the upload's submit button: the new-patient page tells its two forms apart by it


class PatientFhirImportForm(forms.Form):
    """A FHIR Patient resource (JSON) uploaded to fill in the new-patient form (plans.fhir.importing).
    Cleaned, ``fhir_file`` is the PatientImport read from it; nothing is saved."""

    fhir_file = forms.FileField(
        label="FHIR Patient resource (JSON)",
        help_text="A Patient, or a Bundle holding one patient (as this app exports). The form below is filled in "
                  "for you to check; nothing is saved until you press Save patient.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json,application/fhir+json"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "fhir-import"
        button = Submit(IMPORT_BUTTON, "Import from FHIR")
        button.field_classes = "btn btn-outline-primary"  # the page's main action stays Save patient
        self.helper.add_input(button)

    def clean_fhir_file(self):
        from plans.fhir import importing

        upload = self.cleaned_data["fhir_file"]
        if upload.size > importing.MAX_BYTES:  # refused before reading it
            raise forms.ValidationError(importing.ERR_TOO_LARGE)
        try:
            return importing.patient_import(upload.read(importing.MAX_BYTES + 1))
        except importing.ImportRefused as refused:
            raise forms.ValidationError(str(refused)) from None


def patient_form_from_import(imported, *, clinical: bool) -> PatientForm:
    """The new-patient form bound to an import's values, so its own checks (a birth date in the future, a taken
    MRN, a malformed phone) show next to the fields, with the file's own problems beside them. Fields a Patient
    resource does not carry (melasma history, screening) keep their defaults."""
    blank = PatientForm(clinical=clinical)
    data = {name: blank[name].initial for name in blank.fields} | imported.values
    data = {name: value for name, value in data.items() if value is not None}
    form = PatientForm(data, clinical=clinical)
    if not data.get("sex"):  # no usable gender in the file: an empty choice, not a silent "Female"
        form.fields["sex"].choices = [("", "Choose…"), *form.fields["sex"].choices]
    form.is_valid()
    for problem in imported.field_problems:
        if problem.field in form.fields:
            form.add_error(problem.field, problem.message)
    return form


class PatientSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
