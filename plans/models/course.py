"""Courses of treatment: templates, plans, their adjunct regimen, screening overrides and consent."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from clinic import appendonly
from clinic.appendonly import AppendOnlyHistory

from plans.models.base import MODALITY_CHOICES, NoDeleteModel

__all__ = [
    "ProtocolTemplate", "Plan", "PlanState", "PlanAdjunct", "FindingOverride", "ConsentText", "ConsentKind",
    "Consent", "AGENT_CHOICES", "MODALITY_CHOICES",
]

from plans.rules import AGENT_CHOICES  # noqa: E402  (domain reference §4)

SESSIONS_MAX = 6
session_count_validators = [MinValueValidator(1), MaxValueValidator(SESSIONS_MAX)]


class SunProtection(models.Model):
    """Sun-protection regimen (§5: S51, S52, S54). Shared by templates and plans."""

    spf = models.PositiveSmallIntegerField("SPF", default=50, validators=[MinValueValidator(15), MaxValueValidator(100)])
    broad_spectrum = models.BooleanField(default=True)
    tinted_iron_oxide = models.BooleanField("tinted iron-oxide (visible light)", default=True)
    reapply_hours = models.PositiveSmallIntegerField(default=2, validators=[MinValueValidator(1), MaxValueValidator(12)])
    sun_notes = models.CharField("sun protection notes", max_length=300, blank=True)

    class Meta:
        abstract = True


class ProtocolTemplate(SunProtection):
    name = models.CharField(max_length=120, unique=True)
    modality = models.CharField(max_length=20, choices=MODALITY_CHOICES)
    sessions = models.PositiveSmallIntegerField(default=4, validators=session_count_validators)
    interval_days = models.PositiveSmallIntegerField(default=28, validators=[MinValueValidator(7), MaxValueValidator(90)])
    window_before_days = models.PositiveSmallIntegerField(default=3)
    window_after_days = models.PositiveSmallIntegerField(default=7)
    device_name = models.CharField(max_length=120, blank=True)
    device_settings = models.JSONField(default=dict, blank=True)
    exosome_product = models.ForeignKey(
        "plans.ExosomeProduct", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # [{"agent": "hydroquinone", "strength": "4%", "frequency": "nightly", "pause_days_before": 5}, ...]
    adjuncts = models.JSONField(default=list, blank=True)
    followup_months = models.JSONField(default=list, blank=True, help_text="e.g. [1, 3, 6] (S16)")
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    history = AppendOnlyHistory()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PlanState(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


class PlanQuerySet(models.QuerySet):
    def active(self):
        return self.filter(state=PlanState.ACTIVE)

    def delete(self):
        raise PermissionError("Plans are never deleted; stop them with a reason.")


class Plan(SunProtection):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="plans")
    template = models.ForeignKey(ProtocolTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    modality = models.CharField(max_length=20, choices=MODALITY_CHOICES)
    device_name = models.CharField(max_length=120, blank=True)
    device_settings = models.JSONField(default=dict, blank=True)
    sessions_planned = models.PositiveSmallIntegerField(default=4, validators=session_count_validators)
    interval_days = models.PositiveSmallIntegerField(default=28, validators=[MinValueValidator(7), MaxValueValidator(90)])
    window_before_days = models.PositiveSmallIntegerField(default=3)
    window_after_days = models.PositiveSmallIntegerField(default=7)
    start_date = models.DateField()
    exosome_product = models.ForeignKey(
        "plans.ExosomeProduct", null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    followup_months = models.JSONField(default=list, blank=True)
    goals = models.TextField(blank=True)
    notes = models.TextField(blank=True)

    state = models.CharField(max_length=12, choices=PlanState.choices, default=PlanState.DRAFT, db_index=True)
    stop_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Findings as they stood when the plan was activated, kept for the record.
    activation_findings = models.JSONField(default=list, blank=True)
    history = AppendOnlyHistory()

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]
        permissions = [("approve_plan", "Can approve and activate a plan")]
        triggers = [appendonly.refuse_delete("plans", instead="stop them with a reason")]

    def __str__(self):
        return f"{self.get_modality_display()} course for {self.patient.full_name}"

    def delete(self, *args, **kwargs):
        raise PermissionError("Plans are never deleted; stop them with a reason.")

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("plans:detail", args=[self.pk])


class PlanAdjunct(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="adjuncts")
    agent = models.CharField(max_length=30, choices=AGENT_CHOICES)
    strength = models.CharField(max_length=40, blank=True)
    frequency = models.CharField(max_length=60, blank=True)
    start_date = models.DateField(null=True, blank=True)
    stop_date = models.DateField(null=True, blank=True)
    pause_days_before = models.PositiveSmallIntegerField(
        "pause before each session (days)", default=0, validators=[MaxValueValidator(30)]
    )
    notes = models.CharField(max_length=200, blank=True)
    history = AppendOnlyHistory()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_agent_display()} {self.strength}".strip()


class FindingOverride(NoDeleteModel):
    """A clinician's written reason to proceed despite a relative or adjunct finding."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="overrides")
    code = models.CharField(max_length=60)
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    history = AppendOnlyHistory()

    class Meta:
        ordering = ["at"]
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="one_override_per_finding")]
        triggers = [appendonly.refuse_delete("finding overrides")]


class ConsentKind(models.TextChoices):
    MICRONEEDLING = "microneedling", "Microneedling"
    NAFL = "nafl", "Non-ablative fractional laser"
    RF_MICRONEEDLING = "rf_microneedling", "RF microneedling"
    EXOSOME = "exosome", "Exosome use (unapproved product, topical)"


class ConsentText(NoDeleteModel):
    """A version of a consent text. Versions are immutable: an edit is a new version."""

    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="unique_consent_version")]
        triggers = [
            appendonly.refuse_delete("consent text versions"),
            appendonly.refuse_update("a consent text version cannot be changed; publish a new version"),
        ]

    def __str__(self):
        return f"{self.title} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("A consent text version is never edited; publish a new version.")
        super().save(*args, **kwargs)


class Consent(NoDeleteModel):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="consents")
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="consents")
    patient_printed_name = models.CharField(max_length=200)
    signature = models.TextField(help_text="Typed signature, or a drawn signature as a data URL")
    scanned_form = models.FileField(upload_to="consents/%Y/%m/", blank=True)
    patient_confirms = models.BooleanField(default=False)
    witness_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = AppendOnlyHistory()

    class Meta:
        ordering = ["-signed_at"]
        triggers = [
            appendonly.refuse_delete("consents"),
            appendonly.refuse_update("a signed consent cannot be changed; record a new consent"),
        ]
