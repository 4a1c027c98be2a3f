"""Front-desk scheduling: resources, appointments, reminders and calendar feeds.

No double booking: the same room, device or clinician never holds two overlapping live appointments. On
PostgreSQL exclusion constraints enforce it (migration plans/migrations/*_no_double_booking); on SQLite the
booking service checks under a transaction.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from clinic.appendonly import AppendOnlyHistory


__all__ = [
    "Room", "Device", "ClinicianHours", "AppointmentLength", "Appointment", "AppointmentKind",
    "AppointmentStatus", "ReminderLog", "CalendarFeedToken", "LIVE_APPOINTMENT_STATUSES",
]


class Room(models.Model):
    name = models.CharField(max_length=60, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        permissions = [("manage_resources", "Can manage rooms, devices, hours and appointment lengths")]

    def __str__(self):
        return self.name


class Device(models.Model):
    name = models.CharField(max_length=120, unique=True)
    modalities = models.JSONField(default=list, help_text="Modalities this device performs")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ClinicianHours(models.Model):
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)], help_text="0 = Monday")
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["clinician_id", "weekday", "start"]
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="hours_end_after_start")]


class AppointmentKind(models.TextChoices):
    SESSION = "session", "Treatment session"
    FOLLOW_UP = "follow_up", "Follow-up assessment"
    CONSULTATION = "consultation", "Consultation"


class AppointmentLength(models.Model):
    kind = models.CharField(max_length=20, unique=True, help_text="A modality, or 'follow_up' / 'consultation'")
    minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(5), MaxValueValidator(480)])

    class Meta:
        ordering = ["kind"]


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    CANCELLED = "cancelled", "Cancelled"


# Appointments that hold their room, device and clinician.
LIVE_APPOINTMENT_STATUSES = [AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED]


class Appointment(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="appointments")
    plan = models.ForeignKey("plans.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    session = models.ForeignKey(
        "plans.TreatmentSession", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices, default=AppointmentKind.SESSION)
    followup_month = models.PositiveSmallIntegerField(null=True, blank=True)
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField()
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    status = models.CharField(max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    cancel_reason = models.CharField(max_length=300, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    late_cancellation = models.BooleanField(default=False)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)
    # Set when a session recorded earlier in the course left this booking outside its new window: the front
    # desk sees it on the dashboard until the booking is moved (or cancelled).
    window_flagged_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = AppendOnlyHistory()

    class Meta:
        ordering = ["start"]
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="appointment_end_after_start")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}"


class ReminderLog(models.Model):
    """Every reminder sent (or listed for a phone call). Unique per appointment: a second run never resends."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="reminders")
    channel = models.CharField(max_length=10, choices=[("email", "Email"), ("phone", "Phone call")])
    recipient = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["appointment"], name="one_reminder_per_appointment")]


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeedToken(models.Model):
    """The secret in a clinician's .ics feed address. Regenerate to revoke."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_token")
    token = models.CharField(max_length=64, unique=True, default=_new_token)
    created_at = models.DateTimeField(auto_now_add=True)
