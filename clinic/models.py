from django.conf import settings
from django.db import models


class AccessLogQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionError("The access log is append-only.")


class AccessLog(models.Model):
    """Who opened which patient record, and when. Append-only; read by managers."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="access_log")
    path = models.CharField(max_length=300)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        permissions = [("manage_staff", "Can add and disable staff accounts")]

    def delete(self, *args, **kwargs):
        raise PermissionError("The access log is append-only.")
