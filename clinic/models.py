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

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             db_constraint=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="access_log",
                                db_constraint=False)
    path = models.CharField(max_length=300)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        permissions = [("manage_staff", "Can add and disable staff accounts")]
        triggers = [
            appendonly.refuse_delete("access-log rows"),
            appendonly.refuse_update("access-log rows cannot be changed"),
        ]

    def delete(self, *args, **kwargs):
        raise PermissionError("The access log is append-only.")
