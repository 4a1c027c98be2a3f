"""Downloads of bulk FHIR exports: who took which file of which export, when (kept, never deleted)."""

from django.conf import settings
from django.db import models

from plans.models.base import NoDeleteModel

__all__ = ["ExportDownload"]


class ExportDownload(NoDeleteModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    export = models.CharField(max_length=100)
    file = models.CharField(max_length=100)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        permissions = [("export_fhir", "Can download bulk FHIR exports")]
