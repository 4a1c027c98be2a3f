from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        # Pillow's own decompression-bomb guard (a warning past the limit, an error past twice it) at the app's
        # image limit, for any code that opens an image; uploads are checked before that (clinic/uploads.py).
        from django.conf import settings
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = settings.PHOTO_MAX_MEGAPIXELS * 1_000_000
        from clinic import backends  # noqa: F401  connects the signals that drop cached permissions
        # Sent once per app after migrate; each run adds what exists by then, so the last one is complete.
        post_migrate.connect(_sync_roles, dispatch_uid="clinic.roles_sync")


def _sync_roles(sender, using="default", **kwargs):
    from clinic.services import roles_sync

    roles_sync(using=using)
