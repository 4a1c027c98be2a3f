"""Hostile input gets a clear answer, fast (issue 11 §5), each item with its boundaries: the image pixel limit,
the formset caps, the range of dates a query string may ask for, and screening answers re-confirmed only on
purpose. The fuzzing of every page is in test_hostile_fuzz.py."""

import datetime as dt
import importlib
import io
import pkgutil
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django import forms as django_forms
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from clinic import formkit, uploads
from clinic.formkit import EARLIEST_DATE, ERR_DATE_RANGE, LATEST_DATE, parse_query_date
from patients.forms import PatientForm
from plans.forms import course as course_forms
from plans.forms import scheduling as scheduling_forms
from plans.models import Photo, PlanAdjunct
from tests.factories import AdverseEventFactory, PatientFactory
from tests.plans.course_helpers import builder_data, make_plan
from tests.security.fuzz import SLOWEST, png_claiming, png_header_only, timed

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 30, 23, 50, tzinfo=LONDON)  # month end, late evening: the hours that catch clocks


@pytest.fixture(autouse=True)
def frozen():
    """Every test here runs at one fixed instant (and signs in at it: the idle sign-out reads the clock)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


# --- images: the pixel limit, judged before decoding ------------------------------------------------------------


def test_pillows_own_bomb_guard_is_the_apps_limit():
    assert Image.MAX_IMAGE_PIXELS == django_settings.PHOTO_MAX_MEGAPIXELS * 1_000_000 == 40_000_000


@pytest.mark.parametrize(
    "width, height, accepted",
    [(8000, 5000, True), (7999, 5000, True), (8000, 5001, False), (20_000, 20_000, False), (65_535, 65_535, False)],
    ids=["at 40 MP", "just under", "just over", "20,000 squared", "65,535 squared"],
)
def test_the_header_decides_at_the_default_limit(width, height, accepted):
    """Only the header is read: these files hold a few bytes of pixel data, so decoding them would fail."""
    upload = io.BytesIO(png_header_only(width, height))
    start = time.perf_counter()
    if accepted:
        assert uploads.image_check(upload) == "PNG"
    else:
        with pytest.raises(ValidationError) as refused:
            uploads.image_check(upload)
        assert refused.value.code == "image_pixels"
        assert "40 megapixels" in refused.value.messages[0]
    assert time.perf_counter() - start < 0.5


def test_the_refusal_names_the_size_and_the_limit():
    with pytest.raises(ValidationError) as refused:
        uploads.image_check(io.BytesIO(png_header_only(8000, 5001)))
    assert refused.value.messages == [
        "The image is 8,000 × 5,001 pixels (40.0 megapixels); the largest accepted is 40 megapixels. "
        "Save it at a smaller size and upload it again."
    ]


@pytest.fixture
def session(clinician):
    return make_plan(clinician).sessions.get(number=1)


def _upload_photo(client, session, data, name="face.png"):
    return client.post(
        reverse("plans:session_photo_new", args=[session.pk]),
        {"view": "front", "taken_on": "2026-11-30", "image": SimpleUploadedFile(name, data, content_type="image/png")},
    )


@pytest.mark.parametrize(
    "width, height, saved",
    [(1000, 1000, True), (999, 1000, True), (1001, 1000, False)],
    ids=["at the limit", "just under", "just over"],
)
def test_photo_upload_at_the_pixel_limit(frozen, clinician_client, session, settings, width, height, saved):
    settings.PHOTO_MAX_MEGAPIXELS = 1  # small, so the accepted ones decode quickly
    response = _upload_photo(clinician_client, session, png_claiming(width, height))
    if saved:
        assert response.status_code == 302
        photo = Photo.objects.get()
        with photo.image.open("rb") as stored, Image.open(stored) as image:
            assert image.size == (width, height)
    else:
        assert response.status_code == 200
        assert response.context["form"].errors["image"] == [
            "The image is 1,001 × 1,000 pixels (1.0 megapixels); the largest accepted is 1 megapixels. "
            "Save it at a smaller size and upload it again."
        ]
        assert not Photo.objects.exists()


@pytest.mark.parametrize("side", [20_000, 13_000], ids=["20,000 squared (was a 500)", "13,000 squared (was 29 s)"])
def test_a_decompression_bomb_photo_gets_a_field_message_fast(frozen, clinician_client, session, side):
    data = png_claiming(side, side)
    assert len(data) < 100 * 1024  # the point: a small file claiming a huge image
    response, seconds = timed(lambda: _upload_photo(clinician_client, session, data))
    assert response.status_code == 200 and seconds < SLOWEST
    assert "megapixels" in response.context["form"].errors["image"][0]
    assert not Photo.objects.exists()


def test_the_photo_page_states_the_limits(frozen, clinician_client, session):
    page = clinician_client.get(reverse("plans:session_photo_new", args=[session.pk]))
    assert "JPEG or PNG up to 10 MB and 40 megapixels" in page.content.decode()


def _consent_post(**changes):
    data = {"patient_printed_name": "Ann Lee", "signature": "Ann Lee", "patient_confirms": "on",
            "witness_name": "Nurse Kay", "signed_at": "2026-11-30T23:45"}
    return data | changes


@pytest.mark.parametrize(
    "width, accepted", [(1000, True), (1001, False)], ids=["at the limit", "just over"],
)
def test_a_scanned_consent_image_meets_the_same_limit(frozen, clinician_client, clinician, settings, width, accepted):
    from plans.models import Consent
    from tests.plans.course_helpers import consent_texts

    settings.PHOTO_MAX_MEGAPIXELS = 1
    consent_texts()
    plan = make_plan(clinician)
    scan = SimpleUploadedFile("scan.png", png_claiming(width, 1000), content_type="image/png")
    response = clinician_client.post(f"/plans/{plan.pk}/consent/exosome/", _consent_post(scanned_form=scan))
    if accepted:
        assert response.status_code == 302 and Consent.objects.get().scanned_form
    else:
        assert response.status_code == 200 and not Consent.objects.exists()
        assert "1,001 × 1,000 pixels" in response.context["form"].errors["scanned_form"][0]


def test_a_truncated_pdf_scan_is_refused(frozen, clinician_client, clinician):
    from plans.models import Consent
    from tests.plans.course_helpers import consent_texts

    consent_texts()
    plan = make_plan(clinician)
    cut = SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n" + b"1 0 obj\n" * 50, content_type="application/pdf")
    response = clinician_client.post(f"/plans/{plan.pk}/consent/exosome/", _consent_post(scanned_form=cut))
    assert response.context["form"].errors["scanned_form"] == [course_forms.ERR_SCAN_INCOMPLETE]
    assert not Consent.objects.exists()


def test_a_drawn_signature_is_an_image_like_any_other(settings):
    import base64

    settings.PHOTO_MAX_MEGAPIXELS = 1
    at_limit = "data:image/png;base64," + base64.b64encode(png_claiming(1000, 1000)).decode()
    over = "data:image/png;base64," + base64.b64encode(png_claiming(1001, 1000)).decode()
    assert uploads.drawing_check(at_limit) == at_limit
    with pytest.raises(ValidationError, match="1,001 × 1,000 pixels"):
        uploads.drawing_check(over)
    with pytest.raises(ValidationError, match="could not be read"):
        uploads.drawing_check("data:image/png;base64,not-base64!")


# --- formsets: capped to what a clinic needs ---------------------------------------------------------------------


def _project_modules():
    for package in ("clinic", "patients", "plans"):
        root = importlib.import_module(package)
        yield root
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            yield importlib.import_module(info.name)


def test_every_formset_of_the_project_is_capped():
    formsets = {f"{module.__name__}.{name}": value for module in _project_modules()
                for name, value in vars(module).items()
                if isinstance(value, type) and issubclass(value, django_forms.BaseFormSet) and hasattr(value, "form")}
    assert {"plans.forms.course.AdjunctFormSet", "plans.forms.scheduling.CourseSlotFormSet"} <= set(formsets)
    for name, formset in formsets.items():
        assert formset.validate_max, name
        assert formset.absolute_max == formset.max_num <= 50, (name, formset.absolute_max, formset.max_num)
        assert "too_many_forms" in formset.default_error_messages, name
    # And none is built around the helper (inside a function, say).
    base = Path(django_settings.BASE_DIR)
    for folder in ("clinic", "patients", "plans"):
        for path in (base / folder).rglob("*.py"):
            text = path.read_text().replace("capped_formset_factory(", "").replace("forms.formset_factory(form, formset=capped", "")
            assert "formset_factory(" not in text, f"{path}: build formsets with clinic.formkit.capped_formset_factory"


def _adjunct_rows(count):
    agents = [key for key, _ in course_forms.rules.AGENT_CHOICES]
    data = {"adjuncts-TOTAL_FORMS": str(count), "adjuncts-INITIAL_FORMS": "0"}
    for n in range(count):
        data |= {f"adjuncts-{n}-agent": agents[n % len(agents)], f"adjuncts-{n}-strength": "",
                 f"adjuncts-{n}-frequency": "nightly", f"adjuncts-{n}-pause_days_before": ""}
    return data


def test_plan_edit_at_the_adjunct_cap_saves(frozen, clinician_client, clinician):
    plan = make_plan(clinician)
    response = clinician_client.post(f"/plans/{plan.pk}/edit/", builder_data(**_adjunct_rows(course_forms.ADJUNCTS_MAX)))
    assert response.status_code == 302, response.context["formset"].non_form_errors()
    assert PlanAdjunct.objects.filter(plan=plan).count() == course_forms.ADJUNCTS_MAX


@pytest.mark.parametrize("total", [course_forms.ADJUNCTS_MAX + 1, 1_000_000], ids=["one over", "a million"])
def test_plan_edit_over_the_adjunct_cap_is_refused_fast(frozen, clinician_client, clinician, total):
    plan = make_plan(clinician, adjuncts=[{"agent": "hydroquinone", "pause_days_before": 0}])
    data = builder_data(**_adjunct_rows(course_forms.ADJUNCTS_MAX + 1)) | {"adjuncts-TOTAL_FORMS": str(total)}
    response, seconds = timed(lambda: clinician_client.post(f"/plans/{plan.pk}/edit/", data))
    assert response.status_code == 200 and seconds < SLOWEST
    assert list(response.context["formset"].non_form_errors()) == [
        f"A plan can list at most {course_forms.ADJUNCTS_MAX} adjuncts. Remove some rows; nothing was saved."
    ]
    assert len(response.content) < 300_000  # was 2.9 MB: no more rows are built than the cap
    assert list(PlanAdjunct.objects.filter(plan=plan).values_list("agent", flat=True)) == ["hydroquinone"]


@pytest.mark.parametrize("total, refused", [(scheduling_forms.COURSE_SLOTS_MAX, False),
                                            (scheduling_forms.COURSE_SLOTS_MAX + 1, True), (1_000_000, True)])
def test_course_booking_formset_cap(total, refused):
    formset = scheduling_forms.CourseSlotFormSet({"form-TOTAL_FORMS": str(total), "form-INITIAL_FORMS": "0"})
    start = time.perf_counter()
    formset.is_valid()
    assert time.perf_counter() - start < SLOWEST
    message = f"A course books at most {scheduling_forms.COURSE_SLOTS_MAX} appointments at once; nothing was booked."
    assert (message in formset.non_form_errors()) is refused
    assert len(formset.forms) == min(total, scheduling_forms.COURSE_SLOTS_MAX)


# --- dates in query strings: one accepted range, one parser -----------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1900-01-01", EARLIEST_DATE), ("2199-12-31", LATEST_DATE), ("2026-11-30", dt.date(2026, 11, 30)),
        ("", None),
        ("1899-12-31", ERR_DATE_RANGE), ("2200-01-01", ERR_DATE_RANGE), ("9999-12-31", ERR_DATE_RANGE),
        ("0001-01-01", ERR_DATE_RANGE), ("2026-02-30", "Enter a date as YYYY-MM-DD."),
        ("9" * 5000, "Enter a date as YYYY-MM-DD."),
    ],
)
def test_query_dates_have_one_range(text, expected):
    if isinstance(expected, str):
        with pytest.raises(ValidationError) as refused:
            parse_query_date(text)
        assert refused.value.messages == [expected]
    else:
        assert parse_query_date(text) == expected


def test_the_range_is_stated_in_words():
    assert ERR_DATE_RANGE == "Enter a date between 1 Jan 1900 and 31 Dec 2199."
    assert formkit.EARLIEST_DATE == dt.date(1900, 1, 1) and formkit.LATEST_DATE == dt.date(2199, 12, 31)


CALENDARS = ["plans:schedule_day", "plans:schedule_week", "plans:schedule_day_sheet"]


@pytest.mark.parametrize("name", CALENDARS)
@pytest.mark.parametrize("day", [EARLIEST_DATE, LATEST_DATE], ids=["earliest", "latest"])
def test_calendars_show_the_earliest_and_latest_accepted_dates(frozen, front_desk_client, name, day):
    response, seconds = timed(lambda: front_desk_client.get(reverse(name), {"date": day.isoformat()}))
    assert response.status_code == 200 and seconds < SLOWEST
    assert ERR_DATE_RANGE not in response.content.decode()
    assert response.context["day"] == day


@pytest.mark.parametrize("name", CALENDARS)
@pytest.mark.parametrize("text", ["1899-12-31", "2200-01-01", "9999-12-31", "0001-01-01"])
def test_calendars_outside_the_range_say_so_and_show_today(frozen, front_desk_client, name, text):
    response, seconds = timed(lambda: front_desk_client.get(reverse(name), {"date": text}))
    assert response.status_code == 200 and seconds < SLOWEST  # was a 500 (OverflowError) for the last two
    assert f"{ERR_DATE_RANGE} Showing today." in response.content.decode()
    assert response.context["day"] == NOW.date()


def test_a_bad_by_keeps_a_good_date(frozen, front_desk_client):
    response = front_desk_client.get(reverse("plans:schedule_day"), {"date": "2026-12-03", "by": "x" * 500})
    assert response.status_code == 200 and response.context["day"] == dt.date(2026, 12, 3)


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "2200-01-01"])
def test_adverse_event_period_outside_the_range(frozen, clinician_client, text):
    AdverseEventFactory()
    listing = clinician_client.get(reverse("plans:adverse_events"), {"date_from": text})
    assert listing.status_code == 200 and ERR_DATE_RANGE in listing.content.decode()
    report = clinician_client.get(reverse("plans:adverse_events_report"), {"date_to": text})
    assert report.status_code == 400 and ERR_DATE_RANGE in report.content.decode()
    assert not report.context["rows"]  # a printed report never claims a period it does not cover
    export = clinician_client.get(reverse("plans:adverse_events_export"), {"date_from": text})
    assert export.status_code == 400 and export.content.decode() == f"Onset from: {ERR_DATE_RANGE}"


def test_adverse_event_period_at_the_ends_of_the_range(frozen, clinician_client):
    AdverseEventFactory()
    period = {"date_from": EARLIEST_DATE.isoformat(), "date_to": LATEST_DATE.isoformat()}
    assert clinician_client.get(reverse("plans:adverse_events_report"), period).status_code == 200
    export = clinician_client.get(reverse("plans:adverse_events_export"), period)
    assert export.status_code == 200 and len(export.content.decode().splitlines()) == 2


# --- screening answers are re-confirmed only on purpose --------------------------------------------------------


def _edit_post(patient, **changes):
    form = PatientForm(instance=patient, clinical=True)
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, django_forms.BooleanField):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value.isoformat() if isinstance(value, dt.date) else value
    return data | changes


@pytest.fixture
def stale_patient(frozen):
    confirmed = NOW - dt.timedelta(days=45)
    return PatientFactory(screening_confirmed_at=confirmed, screening_confirmed_by=None), confirmed


def test_editing_the_phone_number_keeps_the_screening_date(clinician_client, stale_patient):
    patient, confirmed = stale_patient
    response = clinician_client.post(f"/patients/{patient.pk}/edit/", _edit_post(patient, phone="+44 7700 900123"))
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "+44 7700 900123"
    assert patient.screening_confirmed_at == confirmed and patient.screening_confirmed_by is None


def test_editing_a_screening_answer_without_the_tick_keeps_the_screening_date(clinician_client, stale_patient):
    patient, confirmed = stale_patient
    clinician_client.post(f"/patients/{patient.pk}/edit/", _edit_post(patient, allergies="latex"))
    patient.refresh_from_db()
    assert patient.allergies == "latex" and patient.screening_confirmed_at == confirmed


def test_the_explicit_tick_on_the_edit_form_confirms_the_screening(clinician_client, clinician, stale_patient):
    patient, _ = stale_patient
    clinician_client.post(f"/patients/{patient.pk}/edit/", _edit_post(patient, confirm_screening="on"))
    patient.refresh_from_db()
    assert patient.screening_confirmed_at == NOW and patient.screening_confirmed_by == clinician


def test_the_confirm_screening_action_confirms_it(clinician_client, clinician, stale_patient):
    patient, _ = stale_patient
    clinician_client.post(f"/patients/{patient.pk}/confirm-screening/")
    patient.refresh_from_db()
    assert patient.screening_confirmed_at == NOW and patient.screening_confirmed_by == clinician


def test_the_front_desk_cannot_confirm_screening_through_the_edit_form(front_desk_client, stale_patient):
    patient, confirmed = stale_patient
    data = {k: v for k, v in _edit_post(patient, phone="+44 7700 900124", confirm_screening="on").items()}
    response = front_desk_client.post(f"/patients/{patient.pk}/edit/", data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "+44 7700 900124" and patient.screening_confirmed_at == confirmed


def test_the_tick_is_on_the_edit_form_only_for_clinicians(clinician_client, front_desk_client, stale_patient):
    patient, _ = stale_patient
    assert 'name="confirm_screening"' in clinician_client.get(f"/patients/{patient.pk}/edit/").content.decode()
    assert 'name="confirm_screening"' not in front_desk_client.get(f"/patients/{patient.pk}/edit/").content.decode()
    assert 'name="confirm_screening"' not in clinician_client.get("/patients/new/").content.decode()
