from django.conf import settings
from django.db import models

from clinic import appendonly


class AccessLogQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionError("The access log is append-only.")


class AccessLog(models.Model):
    """Who opened which patient record, and when. Append-only; read by managers.

    Written on every view of a patient page, so its foreign keys carry no database constraint
    (db_constraint=False): a constraint makes PostgreSQL lock the patient's and the user's rows (FOR KEY SHARE)
    at every commit, and several people viewing the same patient then contend on that one row (measured: the
    patient page served 12-15 % fewer requests a second under load). An audit row must not lock the record it
    audits. The references stay sound without it: patients and staff are never deleted (archived, disabled),
    PROTECT still stops the ORM from deleting one that has been viewed, and a row is written only for a patient
    the request has just shown."""

    # Indexed by the two (patient, at) and (user, at) indexes in Meta, not on their own.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             db_constraint=False, db_index=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="access_log",
                                db_constraint=False, db_index=False)
    path = models.CharField(max_length=300)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        permissions = [("manage_staff", "Can add and disable staff accounts")]
        # The manager's filters: one patient's or one staff member's rows, newest first.
        indexes = [
            models.Index(fields=["patient", "-at"], name="accesslog_patient_at"),
            models.Index(fields=["user", "-at"], name="accesslog_user_at"),
        ]
        triggers = [
            appendonly.refuse_delete("access-log rows"),
            appendonly.refuse_update("access-log rows cannot be changed"),
        ]

    def delete(self, *args, **kwargs):
        raise PermissionError("The access log is append-only.")


class StaffChangeQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionError("The staff account log is append-only.")


class StaffChange(models.Model):
    """A change to a staff account (created, disabled, enabled, role changed, password set by a manager): who
    made it, to whose account, and when. Written by the staff services in clinic/services.py; read by managers
    on /staff/changes/. Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", "Account created"
        DISABLED = "disabled", "Account disabled"
        ENABLED = "enabled", "Account enabled"
        ROLE_CHANGED = "role_changed", "Role changed"
        PASSWORD_SET = "password_set", "Password set by a manager"

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_changes")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    detail = models.CharField(max_length=200, blank=True)  # e.g. "Front desk → Manager"; never a password
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = StaffChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        triggers = [
            appendonly.refuse_delete("staff-account log rows"),
            appendonly.refuse_update("staff-account log rows cannot be changed"),
        ]

    def __str__(self):
        return f"{self.get_action_display()}: {self.member} by {self.by}"

    def delete(self, *args, **kwargs):
        raise PermissionError("The staff account log is append-only.")


class DemoBuild(models.Model):
    """The day the demo clinic (clinic/demo.py) was built for: one row, written by the demo loader only.

    `manage.py demo_clinic` reads it to tell a demo whose bookings have drifted into the past (built for an
    earlier day) from one built today, and rebuilds only a database that holds nothing but the demo."""

    built_for = models.DateField()
    seed = models.IntegerField()
    built_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"demo clinic built for {self.built_for}"


class DataChange(models.Model):
    """One row per statement that changed a patient's rows (patient_id) or the shared rows pages show beside them
    (patient_id NULL: staff names, rooms, devices, products, lots, consent texts, templates). Written only by
    PostgreSQL triggers (clinic/datachanges.py), never by the app: the versions that rendered fragments are kept
    under (clinic/fragments.py) come from here, so every write path -- services, admin, raw SQL -- moves them.
    Not a foreign key: the triggers must not take locks on the patient row."""

    patient_id = models.BigIntegerField(null=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["patient_id", "id"], name="clinic_datachange_patient")]

    def __str__(self):
        return f"change {self.pk} of patient {self.patient_id or 'shared rows'}"
