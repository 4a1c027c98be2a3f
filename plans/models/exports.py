"""What left the clinic as an export, kept and never deleted: downloads of bulk FHIR exports, and the copies of
a patient's record produced for the patient (a subject access request, GDPR Art. 15)."""

from django.conf import settings
from django.db import models

from clinic import appendonly
from plans.models.base import NoDeleteModel

__all__ = ["ExportDownload", "PatientCopy"]


class ExportDownload(NoDeleteModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    export = models.CharField(max_length=100)
    file = models.CharField(max_length=100)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        permissions = [("export_fhir", "Can download bulk FHIR exports")]


class PatientCopy(NoDeleteModel):
    """A copy of everything held about a patient, produced by a manager to give to the patient: who produced it,
    when, and the exact ZIP handed over (its SHA-256, size and file list), so the clinic can later show what it
    sent. Written by plans.services.patient_copy; append-only (PostgreSQL refuses UPDATE and DELETE)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="copies")
    produced_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=200)
    sha256 = models.CharField("SHA-256 of the ZIP", max_length=64)
    size = models.PositiveBigIntegerField("size of the ZIP in bytes")
    files = models.JSONField("files in the ZIP", default=list)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "patient copies"
        indexes = [models.Index(fields=["patient", "-at"], name="patientcopy_patient_at")]
        permissions = [("export_patient_copy", "Can produce a patient's own copy of their record")]
        triggers = [
            appendonly.refuse_delete("patient copy records"),
            appendonly.refuse_update("a patient copy record cannot be changed"),
        ]
