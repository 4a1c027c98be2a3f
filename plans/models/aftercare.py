"""Aftercare sheets (§8, §5). Texts are versioned; the sheet handed over with a session is stored as given."""

from django.conf import settings
from django.db import models

from clinic import appendonly
from plans.models.base import NoDeleteModel

__all__ = ["AftercareText", "AftercareSheet"]


class AftercareText(NoDeleteModel):
    """One version of one section's text. A manager's edit adds a version; old versions stay."""

    section = models.CharField(max_length=40)  # keys from plans.rules.aftercare_sections
    modality = models.CharField(max_length=20, blank=True, help_text="Blank: applies to every modality")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["section", "modality", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["section", "modality", "version"], name="unique_aftercare_version")
        ]
        triggers = [
            appendonly.refuse_delete("aftercare text versions"),
            appendonly.refuse_update("an aftercare text version cannot be changed; publish a new version"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("An aftercare text version is never edited; save a new version.")
        super().save(*args, **kwargs)


class AftercareSheet(NoDeleteModel):
    """The exact sheet given with a session, so a reprint shows what the patient received."""

    session = models.OneToOneField("plans.TreatmentSession", on_delete=models.PROTECT, related_name="aftercare_sheet")
    content = models.JSONField(help_text="The sections as rendered: [{key, title, body}], plus header facts")
    text_versions = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("print_aftercare", "Can print, download and email aftercare sheets")]
        # What the patient was given never changes; only when it was last emailed is recorded on it.
        triggers = [
            appendonly.refuse_delete("issued aftercare sheets"),
            appendonly.refuse_update(
                "an issued aftercare sheet cannot be changed; only the time it was emailed is recorded",
                columns=["session_id", "content", "text_versions", "created_by_id", "created_at"],
            ),
        ]
