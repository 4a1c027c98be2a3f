from django.db import models


class NoDeleteQuerySet(models.QuerySet):
    """Clinical records are corrected by amendment, never deleted."""

    def delete(self):
        raise PermissionError(f"{self.model._meta.verbose_name_plural} are never deleted.")


class NoDeleteModel(models.Model):
    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise PermissionError(f"A {self._meta.verbose_name} is never deleted; amend it instead.")


from plans.rules import MODALITY_CHOICES  # noqa: E402,F401
