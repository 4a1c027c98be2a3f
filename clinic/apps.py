from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        # Pillow's own decompression-bomb guard (a warning past the limit, an error past twice it) at the app's
        # image limit, for any code that opens an image; uploads are checked before that (clinic/uploads.py).
        from django.conf import settings
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = settings.PHOTO_MAX_MEGAPIXELS * 1_000_000
        # Sent once per app after migrate; each run adds what exists by then, so the last one is complete.
        post_migrate.connect(_sync_roles, dispatch_uid="clinic.roles_sync")
        # Any write to patients, plans or auth rows makes every kept page stale (clinic/pagecache.py).
        from clinic import pagecache

        for name, signal in (("save", post_save), ("delete", post_delete), ("m2m", m2m_changed)):
            signal.connect(pagecache.on_write, dispatch_uid=f"clinic.pagecache.{name}")
        post_migrate.connect(pagecache.on_migrate, dispatch_uid="clinic.pagecache.migrate")


def _sync_roles(sender, using="default", **kwargs):
    from clinic.services import roles_sync

    roles_sync(using=using)
