"""What happens at each visit: sessions performed, checks, assessments (MASI/mMASI, MELASQOL), photos and
adverse events. None of these is ever deleted (see base.NoDeleteModel); corrections are amendments."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from clinic import appendonly
from clinic.appendonly import AppendOnlyHistory

from plans.models.base import NoDeleteModel

__all__ = [
    "TreatmentSession", "SessionStatus", "SESSION_CLOSED_WITH_REASON", "SessionAmendment", "PreSessionCheck", "Assessment", "AssessmentKind",
    "Photo", "PhotoView", "AdverseEvent", "AdverseEventOutcome", "AdverseEventNote", "MASI_FIELDS",
    "ReportChannel", "AdverseEventReport",
]


class SessionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    BLOCKED = "blocked", "Blocked at pre-session check"
    COMPLETED = "completed", "Done"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"
    SKIPPED = "skipped", "Skipped"


# Skipped or cancelled: the session will not happen, and says why (rules.SESSION_CLOSED_STATES).
SESSION_CLOSED_WITH_REASON = [SessionStatus.SKIPPED, SessionStatus.CANCELLED]


EXOSOME_DELIVERY_CHOICES = [  # plans.rules.outcomes.INJECTING_DELIVERIES name the ones that inject
    ("topical", "Topical, on the treated skin"),
    ("intradermal_injection", "Intradermal injection"),
    ("mesotherapy_injector", "Mesotherapy / needle-free injector"),
]


class TreatmentSession(NoDeleteModel):
    """One session of a course, created with the plan and completed when performed."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, related_name="sessions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.PLANNED)

    # --- as performed (§2) ---
    performed_at = models.DateTimeField(null=True, blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    modality = models.CharField(max_length=20, blank=True)
    device_name = models.CharField(max_length=120, blank=True)
    device_settings = models.JSONField(default=dict, blank=True)
    exosome_lot = models.ForeignKey(
        "plans.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    exosome_volume_ml = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    exosome_applied = models.CharField("when applied", max_length=60, blank=True)
    exosome_delivery = models.CharField("how delivered", max_length=30, choices=EXOSOME_DELIVERY_CHOICES, blank=True)
    # A topical-only product delivered by injection needs an explicit confirmation and a note (S56, S57).
    delivery_confirmed = models.BooleanField("off-label delivery confirmed", default=False)
    delivery_note = models.TextField("off-label delivery note", blank=True)
    zones = models.CharField("treated zones", max_length=200, blank=True)
    anaesthetic = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Recorded on a day outside the session's window (§9, RULE_WINDOW_*): the clinician's reason, kept.
    out_of_window_reason = models.TextField("reason for treating outside the window", blank=True)
    # Skipped or cancelled: why, who and when (the next session may then be recorded).
    closed_reason = models.TextField("reason skipped or cancelled", blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = AppendOnlyHistory()

    class Meta:
        ordering = ["plan_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="unique_session_number"),
            models.CheckConstraint(
                condition=~models.Q(status__in=SESSION_CLOSED_WITH_REASON) | ~models.Q(closed_reason=""),
                name="closed_session_has_reason",
            ),
        ]
        permissions = [("record_session", "Can record a performed session")]
        # PostgreSQL (clinic/appendonly.py): a completed session is never deleted, keeps what it is, and its
        # clinical columns change only with a SessionAmendment written in the same transaction.
        triggers = [
            appendonly.refuse_delete("completed sessions", condition="OLD.status = 'completed'",
                                     instead="they are corrected by amendment"),
            appendonly.refuse_update(
                "a completed session keeps its plan, number, status, modality and completion time",
                columns=["plan_id", "number", "status", "modality", "completed_at"],
                only_if="OLD.status = 'completed'", name="completed_session_keeps_identity",
            ),
            appendonly.refuse_unless(
                "completed session clinical columns cannot be updated; record an amendment",
                when="OLD.status = 'completed' AND OLD.* IS DISTINCT FROM NEW.*",
                allowed_if=(
                    "EXISTS (SELECT 1 FROM plans_sessionamendment a WHERE a.session_id = NEW.id AND "
                    + appendonly.WRITTEN_IN_THIS_TRANSACTION.format(alias="a") + ")"
                ),
                name="completed_session_needs_amendment",
            ),
        ]

    def __str__(self):
        return f"Session {self.number} of plan {self.plan_id}"

    @property
    def is_completed(self) -> bool:
        return self.status == SessionStatus.COMPLETED

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("plans:session", args=[self.pk])


class SessionAmendment(NoDeleteModel):
    """A correction to a completed session: the values before and after, why, who and when."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="amendments")
    reason = models.TextField()
    before = models.JSONField()
    after = models.JSONField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at"]
        triggers = [
            appendonly.refuse_delete("session amendments"),
            appendonly.refuse_update("a session amendment cannot be changed; record another amendment"),
        ]


class PreSessionCheck(NoDeleteModel):
    """Answers re-confirmed before a session starts (§3); a failed check is kept with its reasons."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="checks")
    pregnant = models.BooleanField(default=False)
    new_medicines = models.CharField(max_length=300, blank=True)
    recent_sun_or_tan = models.BooleanField(default=False)
    active_lesion_or_infection = models.BooleanField(default=False)
    topical_pauses_kept = models.BooleanField(default=True)
    antiviral_taken = models.BooleanField(null=True, blank=True)
    passed = models.BooleanField()
    blockers = models.JSONField(default=list, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        triggers = [appendonly.refuse_delete("pre-session checks")]


class AssessmentKind(models.TextChoices):  # §9
    BASELINE = "baseline", "Baseline"
    PRE_SESSION = "pre_session", "Before session"
    FOLLOW_UP = "follow_up", "Follow-up"


MASI_REGIONS = ["forehead", "right_malar", "left_malar", "chin"]  # S1
MASI_FIELDS = [f"{region}_{part}" for region in MASI_REGIONS for part in ("area", "darkness", "homogeneity")]


def _score(max_value):
    return models.PositiveSmallIntegerField(validators=[MaxValueValidator(max_value)])


class Assessment(NoDeleteModel):
    """MASI components per region (S1, S2) with MASI and mMASI (S3) computed by plans.rules; MELASQOL (S6)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="assessments")
    plan = models.ForeignKey("plans.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="assessments")
    session = models.ForeignKey(
        TreatmentSession, null=True, blank=True, on_delete=models.PROTECT, related_name="assessments"
    )
    kind = models.CharField(max_length=12, choices=AssessmentKind.choices)
    taken_on = models.DateField()
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    forehead_area = _score(6)
    forehead_darkness = _score(4)
    forehead_homogeneity = _score(4)
    right_malar_area = _score(6)
    right_malar_darkness = _score(4)
    right_malar_homogeneity = _score(4)
    left_malar_area = _score(6)
    left_malar_darkness = _score(4)
    left_malar_homogeneity = _score(4)
    chin_area = _score(6)
    chin_darkness = _score(4)
    chin_homogeneity = _score(4)

    # Computed from the components by the service (plans.rules.masi / mmasi) and stored for the trend chart.
    masi = models.DecimalField(max_digits=4, decimal_places=1)
    mmasi = models.DecimalField(max_digits=4, decimal_places=1)
    melasqol_items = models.JSONField(default=list, blank=True)  # 10 items, each 1–7
    melasqol_total = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(10), MaxValueValidator(70)]
    )
    notes = models.TextField(blank=True)
    # Which follow-up after the course this is (1, 3 or 6 months after the last session, S16), set by the
    # service from plans.rules.outcomes.followup_month_for when recorded; None for any other assessment.
    followup_month = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    history = AppendOnlyHistory()

    class Meta:
        ordering = ["taken_on", "id"]
        indexes = [models.Index(fields=["plan", "taken_on"])]
        permissions = [("view_outcomes", "Can view the clinic's aggregated treatment outcomes")]
        triggers = [
            appendonly.refuse_delete("assessments"),
            appendonly.refuse_update("an assessment cannot be changed; record a new assessment"),
        ]


class PhotoView(models.TextChoices):  # §9 standard views
    FRONT = "front", "Front"
    LEFT_OBLIQUE = "left_oblique", "Left oblique"
    RIGHT_OBLIQUE = "right_oblique", "Right oblique"


class Photo(NoDeleteModel):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="photos")
    session = models.ForeignKey(TreatmentSession, null=True, blank=True, on_delete=models.PROTECT, related_name="photos")
    taken_on = models.DateField()
    view = models.CharField(max_length=20, choices=PhotoView.choices)
    # Stored under MEDIA_ROOT (never a public path) and served through plans' photo view after a role check.
    image = models.FileField(upload_to="photos/%Y/%m/")
    content_type = models.CharField(max_length=40)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_on", "view"]
        triggers = [
            appendonly.refuse_delete("photos"),
            appendonly.refuse_update("a clinical photo cannot be changed; upload a new one"),
        ]


class AdverseEventOutcome(models.TextChoices):
    ONGOING = "ongoing", "Ongoing"
    RESOLVED = "resolved", "Resolved"
    RESOLVED_SEQUELAE = "resolved_sequelae", "Resolved with sequelae"


class ReportChannel(models.TextChoices):
    MEDWATCH_ONLINE = "medwatch_online", "MedWatch online (FDA 3500)"
    EMAIL = "email", "Email to the regulator"
    POST = "post", "Post"
    PHONE = "phone", "Phone, confirmed in writing"
    MANUFACTURER = "manufacturer", "Through the manufacturer (responsible person)"


class AdverseEvent(NoDeleteModel):
    """An adverse event (§7). Severity (CTCAE grade, S74) and seriousness (S75, S58) are separate fields."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="adverse_events")
    plan = models.ForeignKey("plans.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="adverse_events")
    session = models.ForeignKey(
        TreatmentSession, null=True, blank=True, on_delete=models.PROTECT, related_name="adverse_events"
    )
    ae_type = models.CharField("type", max_length=40)
    onset_date = models.DateField()
    grade = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    serious = models.BooleanField(default=False)
    description = models.TextField()
    action_taken = models.TextField(blank=True)
    lot = models.ForeignKey("plans.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="adverse_events")
    outcome = models.CharField(max_length=20, choices=AdverseEventOutcome.choices, default=AdverseEventOutcome.ONGOING)
    resolved_on = models.DateField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField("reported to the regulator", null=True, blank=True)
    # The reporting clock (MoCRA, S58): a reportable event is due ae_report_business_days business days after
    # the clinic learned of it (plans.rules.outcomes.report_due_on); recording how it was reported closes it.
    learned_on = models.DateField("clinic learned of it on", null=True, blank=True)
    report_due_on = models.DateField("report due", null=True, blank=True, db_index=True)
    reported_how = models.CharField("reported how", max_length=20, choices=ReportChannel.choices, blank=True)
    report_reference = models.CharField("reference received", max_length=120, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = AppendOnlyHistory()

    class Meta:
        ordering = ["-onset_date", "-id"]
        indexes = [models.Index(fields=["outcome", "onset_date"])]
        permissions = [("export_adverseevents", "Can export a period's adverse events and reports for an inspector")]
        constraints = [
            # A report is recorded with how it went and the reference received, or not at all.
            models.CheckConstraint(
                condition=Q(reported_at__isnull=True) | (~Q(reported_how="") & ~Q(report_reference="")),
                name="ae_reported_with_channel_and_reference",
            ),
        ]
        # Review, outcome and corrections update the event (with history); whose event it is and who recorded
        # it, when, never change.
        triggers = [
            appendonly.refuse_delete("adverse events"),
            appendonly.refuse_update(
                "an adverse event keeps its patient, plan, session and who recorded it when",
                columns=["patient_id", "plan_id", "session_id", "recorded_by_id", "recorded_at"],
            ),
        ]


    @property
    def is_reportable(self) -> bool:
        """Flagged for regulatory reporting: CTCAE grade 3 or above, or serious (plans.rules, S74, S75, S58)."""
        from plans.rules import ae_is_reportable

        return ae_is_reportable(self.grade, self.serious)

    @property
    def report_overdue(self) -> bool:
        """Past its report due date and not yet reported (plans.rules.outcomes, S58)."""
        from django.utils import timezone

        from plans.rules.outcomes import report_is_overdue

        return report_is_overdue(self.report_due_on, timezone.localdate(), self.reported_at is not None)


class AdverseEventNote(NoDeleteModel):
    event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="notes")
    note = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at"]
        triggers = [
            appendonly.refuse_delete("adverse-event notes"),
            appendonly.refuse_update("an adverse-event note cannot be changed; add another note"),
        ]


class AdverseEventReport(NoDeleteModel):
    """A generated report of a reportable adverse event (S58), kept exactly as generated: the PDF bytes and
    the facts it was built from. Never changed or deleted (the model refuses, and on PostgreSQL a trigger
    does); a later report of the same event is a new row with the next number."""

    event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="reports")
    number = models.PositiveSmallIntegerField()
    content = models.JSONField()
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event_id", "number"]
        constraints = [models.UniqueConstraint(fields=["event", "number"], name="unique_ae_report_number")]
        triggers = [
            appendonly.refuse_delete("kept adverse-event reports"),
            appendonly.refuse_update("a kept adverse-event report is never changed; generate a new one"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("A kept adverse-event report is never changed; generate a new one.")
        super().save(*args, **kwargs)
