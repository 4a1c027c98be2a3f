from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        # Sent once per app after migrate; each run adds what exists by then, so the last one is complete.
        post_migrate.connect(_sync_roles, dispatch_uid="clinic.roles_sync")


def _sync_roles(sender, using="default", **kwargs):
    from clinic.services import roles_sync

    roles_sync(using=using)
