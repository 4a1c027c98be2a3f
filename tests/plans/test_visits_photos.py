"""Photos: JPEG/PNG checked by content, size limit, EXIF (GPS) stripped, stored outside public paths and served
only to roles with plans.view_photo."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import ExifTags, Image

from plans.models import Photo
from plans.selectors import visits as selectors
from plans.services import visits as services
from tests.factories import PlanFactory, TreatmentSessionFactory

GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (51.0, 30.0, 12.0),
    ExifTags.GPS.GPSLongitudeRef: "W", ExifTags.GPS.GPSLongitude: (0.0, 7.0, 0.0),
}


def jpeg_with_gps(size=(64, 48)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCam"
    exif[ExifTags.Base.Orientation] = 6  # rotated 90°: the stored photo is turned upright
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGBA", (20, 20), (0, 128, 0, 255))
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "51.5,-0.1")
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.fixture
def session(db):
    return TreatmentSessionFactory(plan=PlanFactory(state="active"), number=1)


def upload(client, session, data: bytes, name="face.jpg", content_type="image/jpeg", view="front"):
    return client.post(
        reverse("plans:session_photo_new", args=[session.pk]),
        {"view": view, "taken_on": timezone.localdate().isoformat(), "image": SimpleUploadedFile(name, data, content_type)},
    )


def test_jpeg_upload_strips_exif_and_gps(clinician_client, clinician, session):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test photo has GPS
    response = upload(clinician_client, session, original)
    assert response.status_code == 302
    photo = Photo.objects.get()
    assert photo.content_type == "image/jpeg" and photo.uploaded_by == clinician and photo.session == session
    assert photo.patient == session.plan.patient
    with photo.image.open("rb") as handle:
        stored = handle.read()
    image = Image.open(io.BytesIO(stored))
    exif = image.getexif()
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert len(exif) == 0 and b"Exif" not in stored and b"PhoneCam" not in stored
    assert image.size == (48, 64)  # turned upright before the orientation tag was dropped
    # Stored under MEDIA_ROOT with a random name, nowhere under the static files.
    path = Path(photo.image.path)
    assert path.is_relative_to(Path(settings.MEDIA_ROOT)) and "face" not in path.name


def test_png_text_metadata_is_dropped(clinician_client, session):
    assert upload(clinician_client, session, png_bytes(), name="face.png", content_type="image/png").status_code == 302
    photo = Photo.objects.get()
    assert photo.content_type == "image/png"
    with photo.image.open("rb") as handle:
        stored = handle.read()
    assert b"Location" not in stored and Image.open(io.BytesIO(stored)).format == "PNG"


@pytest.mark.parametrize(
    "data, name, content_type",
    [
        (b"%PDF-1.4 not a photo", "face.jpg", "image/jpeg"),  # the name lies; the content decides
        (b"GIF89a" + b"\x00" * 40, "face.png", "image/png"),
        (b"", "empty.jpg", "image/jpeg"),
    ],
)
def test_non_jpeg_png_content_is_refused(clinician_client, session, data, name, content_type):
    response = upload(clinician_client, session, data, name=name, content_type=content_type)
    assert response.status_code == 200
    assert response.context["form"].errors["image"]
    assert not Photo.objects.exists()
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.*")) if Path(settings.MEDIA_ROOT).exists() else True


def test_gif_is_refused_by_content(clinician_client, session):
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    response = upload(clinician_client, session, out.getvalue(), name="face.jpg")
    assert response.context["form"].errors["image"] == [services.ERR_PHOTO_TYPE]
    assert not Photo.objects.exists()


def test_size_limit(clinician_client, session, settings):
    settings.PHOTO_MAX_BYTES = 500
    response = upload(clinician_client, session, jpeg_with_gps(size=(400, 400)))
    assert response.context["form"].errors["image"] == [services.ERR_PHOTO_TOO_LARGE.format(limit_mb=0)]
    assert not Photo.objects.exists()


@pytest.fixture
def photo(clinician_client, session):
    upload(clinician_client, session, jpeg_with_gps())
    return Photo.objects.get()


def test_photo_access_ladder(role_clients, photo):
    url = reverse("plans:photo", args=[photo.pk])
    anonymous = role_clients["anonymous"].get(url)
    assert anonymous.status_code == 302 and anonymous.url.startswith("/login/")
    assert role_clients["front_desk"].get(url).status_code == 403
    for role in ("clinician", "manager"):
        response = role_clients[role].get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == "private, no-store"
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


def test_media_is_not_served_at_a_public_url(clinician_client, photo):
    assert clinician_client.get(f"/media/{photo.image.name}").status_code == 404
    assert clinician_client.get(f"/static/{photo.image.name}").status_code == 404


def test_baseline_and_latest_shown_side_by_side(clinician_client, session):
    plan = session.plan
    plan_url = reverse("plans:plan_photo_new", args=[plan.pk])
    clinician_client.post(plan_url, {"view": "front", "taken_on": "2026-01-05", "image": SimpleUploadedFile("a.jpg", jpeg_with_gps(), "image/jpeg")})
    upload(clinician_client, session, jpeg_with_gps())
    upload(clinician_client, session, jpeg_with_gps(), view="left_oblique")
    baseline, latest, left = Photo.objects.order_by("id")
    pairs = selectors.plan_photo_pairs(plan)
    assert pairs == [
        {"view": "Front", "baseline": baseline, "latest": latest},
        {"view": "Left oblique", "baseline": left, "latest": None},
    ]
    assert baseline.session is None and baseline.taken_on == dt.date(2026, 1, 5)


def test_photos_are_never_deleted(photo):
    with pytest.raises(PermissionError):
        photo.delete()
