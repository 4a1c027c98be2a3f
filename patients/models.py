"""Patients: demographics and contact, melasma history, and the screening answers the plan builder uses.

Screening fields follow the domain reference §3 (shared/domain/melasma.md) and match
plans.rules.ScreeningAnswers field for field. Patients are archived, never deleted; every change is kept by
django-simple-history with who and when.
"""

from django.conf import settings
from django.db import models

from clinic import appendonly
from clinic.appendonly import AppendOnlyHistory


class FitzpatrickType(models.IntegerChoices):  # S8
    I = 1, "I — always burns, never tans"
    II = 2, "II — burns easily, tans poorly"
    III = 3, "III — sometimes burns, tans gradually"
    IV = 4, "IV — rarely burns, tans easily"
    V = 5, "V — very rarely burns, tans very easily"
    VI = 6, "VI — never burns, deeply pigmented"


class WoodsLampType(models.TextChoices):  # S9
    UNKNOWN = "", "Not assessed"
    EPIDERMAL = "epidermal", "Epidermal (enhances)"
    DERMAL = "dermal", "Dermal (no enhancement)"
    MIXED = "mixed", "Mixed"
    INDETERMINATE = "indeterminate", "Indeterminate"


class HormonalContraception(models.TextChoices):  # S47: combined methods matter for oral TXA
    NONE = "none", "None"
    COMBINED = "combined", "Combined (oestrogen + progestin)"
    PROGESTIN_ONLY = "progestin_only", "Progestin only"


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    OTHER = "X", "Other / not stated"


class PatientQuerySet(models.QuerySet):
    def current(self):
        return self.filter(archived_at__isnull=True)

    def delete(self):
        raise PermissionError("Patients are archived, never deleted.")


DEMOGRAPHIC_FIELDS = [
    "mrn", "first_name", "last_name", "date_of_birth", "sex", "phone", "email", "email_consent",
    "address", "emergency_contact",
]
CLINICAL_FIELDS = [
    "fitzpatrick_type", "woods_lamp_type", "melasma_onset_year", "trigger_pregnancy",
    "trigger_hormonal_contraception", "trigger_sun", "trigger_other",
]
SCREENING_FIELDS = [
    "is_pregnant", "is_breastfeeding", "pregnancy_status_confirmed_on", "isotretinoin_last_dose",
    "hsv_history", "hsv_last_outbreak", "active_infection_or_lesion", "keloid_tendency", "anticoagulants",
    "photosensitising_medicines", "thrombosis_history", "hormonal_contraception", "pacemaker_or_implant",
    "metal_implants_face", "gold_threads_face", "autoimmune_or_immunosuppressed", "uncontrolled_diabetes",
    "smoker", "renal_impairment", "last_tan_or_sun_exposure", "allergies", "screening_notes",
]


class Patient(models.Model):
    # --- demographics and contact (front desk may edit) ---
    mrn = models.CharField("medical record number", max_length=20, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.FEMALE)
    phone = models.CharField(max_length=30, blank=True)
    phone_digits = models.CharField(max_length=30, blank=True, editable=False, db_index=True)  # for search
    email = models.EmailField(blank=True)
    email_consent = models.BooleanField("agrees to email", default=False)
    address = models.TextField(blank=True)
    emergency_contact = models.CharField(max_length=200, blank=True)

    # --- melasma history (clinicians) ---
    fitzpatrick_type = models.PositiveSmallIntegerField(choices=FitzpatrickType.choices, null=True, blank=True)
    woods_lamp_type = models.CharField(max_length=20, choices=WoodsLampType.choices, blank=True)
    melasma_onset_year = models.PositiveSmallIntegerField(null=True, blank=True)
    trigger_pregnancy = models.BooleanField("onset with pregnancy", default=False)
    trigger_hormonal_contraception = models.BooleanField("onset with hormonal contraception", default=False)
    trigger_sun = models.BooleanField("worse with sun", default=False)
    trigger_other = models.CharField("other triggers", max_length=200, blank=True)

    # --- screening answers (§3), used by plans.rules.screen ---
    is_pregnant = models.BooleanField("pregnant", default=False)
    is_breastfeeding = models.BooleanField("breastfeeding", default=False)
    pregnancy_status_confirmed_on = models.DateField(null=True, blank=True)
    isotretinoin_last_dose = models.DateField("isotretinoin: last dose", null=True, blank=True)
    hsv_history = models.BooleanField("history of herpes simplex (cold sores)", default=False)
    hsv_last_outbreak = models.DateField("last HSV outbreak", null=True, blank=True)
    active_infection_or_lesion = models.BooleanField("active infection, open wound or HSV lesion", default=False)
    keloid_tendency = models.BooleanField("keloid or hypertrophic scarring tendency", default=False)
    anticoagulants = models.BooleanField("takes anticoagulants or antiplatelets", default=False)
    photosensitising_medicines = models.CharField(
        max_length=300, blank=True, help_text="e.g. doxycycline, ciprofloxacin, thiazides; blank if none"
    )
    thrombosis_history = models.BooleanField("history or inherited risk of thrombosis", default=False)
    hormonal_contraception = models.CharField(
        max_length=20, choices=HormonalContraception.choices, default=HormonalContraception.NONE
    )
    pacemaker_or_implant = models.BooleanField("pacemaker, ICD or implanted electronics", default=False)
    metal_implants_face = models.BooleanField("metal implants in the face", default=False)
    gold_threads_face = models.BooleanField("gold threads in the face", default=False)
    autoimmune_or_immunosuppressed = models.BooleanField("autoimmune disease or immunosuppression", default=False)
    uncontrolled_diabetes = models.BooleanField(default=False)
    smoker = models.BooleanField(default=False)
    renal_impairment = models.BooleanField(default=False)
    last_tan_or_sun_exposure = models.DateField("last tan, sunburn or self-tanner", null=True, blank=True)
    allergies = models.CharField(max_length=300, blank=True, help_text="Blank if none known")
    screening_notes = models.TextField(blank=True)
    screening_confirmed_at = models.DateTimeField(null=True, blank=True)
    screening_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    history = AppendOnlyHistory()
    objects = PatientQuerySet.as_manager()

    @property
    def may_email(self) -> bool:
        """The one rule for "may we email this patient" (plans.rules.may_email), for templates and services."""
        from plans.rules import may_email

        return may_email(self.email, self.email_consent)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            # The list's order; prefix search on names has PostgreSQL expression indexes
            # (migration 0003_patient_search_indexes).
            models.Index(fields=["last_name", "first_name", "id"], name="patient_list_order"),
            models.Index(fields=["date_of_birth"]),
        ]
        permissions = [
            ("view_clinical_history", "Can view melasma history and screening answers"),
            ("change_clinical_history", "Can change melasma history and screening answers"),
            ("archive_patient", "Can archive a patient"),
            ("view_patient_history", "Can read the change history of a patient"),
        ]
        triggers = [appendonly.refuse_delete("patients", instead="archive them")]

    def __str__(self):
        return f"{self.last_name}, {self.first_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def delete(self, *args, **kwargs):
        raise PermissionError("Patients are archived, never deleted.")

    def save(self, *args, **kwargs):
        self.phone_digits = "".join(ch for ch in self.phone if ch.isdigit())
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("patients:detail", args=[self.pk])
