"""Issue 15 §3: the patient's own copy of their record. A manager produces one ZIP (a readable PDF, the FHIR
Bundle, the aftercare sheets as issued, the photos, scanned consents and the access log); producing it is
recorded and logged; the PDF read back (pdftotext) holds every section and the values a patient looks for."""

import base64
import datetime as dt
import hashlib
import io
import json
import re
import subprocess
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from clinic.models import AccessLog
from clinic.services import access_log_record
from plans.models import PatientCopy, Photo, PreSessionCheck
from plans.selectors.patient_copy import COPY_QUERIES, patient_copy_data
from plans.services.patient_copy import patient_copy_produce
from tests.factories import ConsentFactory, ConsentTextFactory, UserFactory
from tests.fhir.helpers import NOW, TODAY, at, resources, two_course_patient, validate

pytestmark = pytest.mark.django_db

SECTIONS = [
    "About this copy", "Your details", "Skin and melasma history", "Screening answers", "Checks before each session",
    "Changes to your details and answers", "Treatment courses and sessions", "Products and lots", "Scores",
    "Photos", "Adverse events", "Consents", "Aftercare sheets as given to you", "Appointments",
    "Who opened your record",
]


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW)  # ticks on, so records made one after the other keep their order


def _image(size=(8, 8), fmt="PNG", colour="white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


def _photo(record, *, view="front", days=-180, content=None, fmt="PNG"):
    photo = Photo(patient=record["patient"], session=record["sessions"][0], taken_on=TODAY + dt.timedelta(days=days),
                  view=view, content_type=f"image/{fmt.lower()}", uploaded_by=record["hart"])
    photo.image.save(f"{view}.{fmt.lower()}", ContentFile(content or _image(fmt=fmt)), save=True)
    return photo


def _grown(record, *, photos=1, checks=1, openings=1):
    """The hand-checked patient with photos, pre-session checks, a scanned and a drawn consent, and openings of
    the record by a receptionist who appears nowhere else."""
    for n in range(photos):
        _photo(record, view=["front", "left_oblique", "right_oblique"][n % 3], days=-180 + n)
    for n in range(checks):
        PreSessionCheck.objects.create(session=record["sessions"][n % 3], by=record["hart"], passed=True,
                                       new_medicines="" if n else "Doxycycline")
    ConsentFactory(
        plan=record["first"], text=ConsentTextFactory(kind="exosome", version=3, body="Scanned exosome consent body"),
        clinician=record["hart"], signed_at=at(-182), scanned_form=ContentFile(_image(), name="scan.png"),
        signature="data:image/png;base64," + base64.b64encode(_image((40, 12))).decode(),
    )
    desk = UserFactory(role="front_desk", username="desai", first_name="Priya", last_name="Desai")
    for _ in range(openings):
        access_log_record(user=desk, patients=[record["patient"]], path=f"/patients/{record['patient'].pk}/")
    return record


@pytest.fixture
def record():
    return _grown(two_course_patient())


def _post(client, patient):
    return client.post(reverse("patients:copy", args=[patient.pk]))


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "record.pdf"
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", " ", text).replace("/ ", "/")  # a file path may wrap after a slash


@pytest.fixture
def produced(manager_client, record):
    response = _post(manager_client, record["patient"])
    assert response.status_code == 200
    return response, _zip(response)


# --- who may produce it ---------------------------------------------------------------------------------


def test_permission_ladder(role_clients, record):
    patient = record["patient"]
    url = reverse("patients:copy", args=[patient.pk])
    anonymous = role_clients["anonymous"].post(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert role_clients["front_desk"].post(url).status_code == 403
    assert role_clients["clinician"].post(url).status_code == 403
    assert role_clients["manager"].get(url).status_code == 405  # producing a copy writes a record: POST only
    assert not PatientCopy.objects.exists()
    response = role_clients["manager"].post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="patient-copy-MRN-4711-{TODAY.isoformat()}.zip"'
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_patient_page_offers_the_copy_to_managers_only(role_clients, record):
    patient = record["patient"]
    url = reverse("patients:copy", args=[patient.pk])
    page = role_clients["manager"].get(patient.get_absolute_url()).content.decode()
    assert f'action="{url}"' in page and 'method="post"' in page
    for role in ("clinician", "front_desk"):
        assert url not in role_clients[role].get(patient.get_absolute_url()).content.decode(), role


def test_producing_a_copy_is_recorded_and_logged(manager, produced, record):
    response, archive = produced
    patient = record["patient"]
    url = reverse("patients:copy", args=[patient.pk])
    copy = PatientCopy.objects.get()
    assert (copy.patient, copy.produced_by, timezone.localdate(copy.at)) == (patient, manager, TODAY)
    assert copy.filename == f"patient-copy-MRN-4711-{TODAY.isoformat()}.zip"
    assert copy.files == archive.namelist()
    assert AccessLog.objects.filter(user=manager, patient=patient, path=url).count() == 1


def test_the_recorded_hash_is_the_hash_of_the_zip_handed_over(manager_client, record):
    content = b"".join(_post(manager_client, record["patient"]).streaming_content)
    copy = PatientCopy.objects.get()
    assert copy.sha256 == hashlib.sha256(content).hexdigest()
    assert copy.size == len(content)


def test_an_unknown_patient_is_404_and_nothing_is_written(manager_client):
    before = AccessLog.objects.count()
    assert manager_client.post(reverse("patients:copy", args=[999999])).status_code == 404
    assert AccessLog.objects.count() == before
    assert not PatientCopy.objects.exists()


def test_a_second_copy_lists_the_first(manager_client, record, tmp_path):
    _post(manager_client, record["patient"])
    archive = _zip(_post(manager_client, record["patient"]))
    text = _pdf_text(archive.read("record-MRN-4711.pdf"), tmp_path)
    assert text.count("by Cleo Clark") >= 2  # the earlier copy, and this one
    assert PatientCopy.objects.count() == 2


# --- what the ZIP holds ---------------------------------------------------------------------------------


def test_zip_holds_the_pdf_the_bundle_aftercare_photos_scans_and_access_log(produced, record):
    _, archive = produced
    names = archive.namelist()
    assert {"README.txt", "record-MRN-4711.pdf", "record-MRN-4711.fhir.json", "access-log.csv"} <= set(names)
    assert [n for n in names if n.startswith("aftercare/")] == ["aftercare/aftercare-2025-09-11-session-1.pdf"]
    assert [n for n in names if n.startswith("photos/")] == ["photos/2025-09-11-front.png"]
    assert [n for n in names if n.startswith("consents/")] == ["consents/2025-09-09-exosome-v3.png"]
    assert archive.read("photos/2025-09-11-front.png") == Photo.objects.get().image.open("rb").read()
    assert archive.read("record-MRN-4711.pdf").startswith(b"%PDF")
    assert archive.testzip() is None


def test_the_bundle_in_the_zip_validates_and_carries_the_aftercare_pdf_as_issued(produced, record):
    _, archive = produced
    bundle = json.loads(archive.read("record-MRN-4711.fhir.json"))
    validate(bundle)
    assert len(resources(bundle, "Procedure")) == 4
    [document] = resources(bundle, "DocumentReference")
    attached = base64.b64decode(document["content"][0]["attachment"]["data"])
    assert archive.read("aftercare/aftercare-2025-09-11-session-1.pdf") == attached


def test_access_log_csv_has_every_opening_with_who_and_what(produced, record):
    _, archive = produced
    lines = archive.read("access-log.csv").decode().splitlines()
    assert lines[0] == "when,staff member,what was opened"
    assert f"Priya Desai,/patients/{record['patient'].pk}/" in lines[1]
    assert len(lines) == 2  # the copy itself is logged once it has been built


# --- what the PDF says ----------------------------------------------------------------------------------


def test_pdf_has_every_section_and_the_values_a_patient_looks_for(produced, record, tmp_path):
    _, archive = produced
    text = _pdf_text(archive.read("record-MRN-4711.pdf"), tmp_path)
    for heading in SECTIONS:
        assert heading in text, heading
    for value in [
        "Nadia Rahman", "MRN-4711", "born 14 Mar 1985", "+44 7700 900123",  # demographics
        "IV — rarely burns, tans easily",  # melasma history
        "Last confirmed as still true on 22 Aug 2025", "Doxycycline",  # screening answers and a dated check
        "Microneedling course from 11 Sep 2025 (completed)", "Non-ablative fractional laser course",
        "Needle depth (mm): 0.8", "Pulse energy (mJ): 10",  # device settings, the amended value too
        "Corrected 10 Mar 2026 by Kofi Osei: “Depth typed wrongly”",
        "skipped: Patient travelling",
        "ExoRenew Serum", "EXO-2291", "Dermagen Labs",  # product and lot
        "9.4", "5.2", "37", "-42.9%",  # MASI, mMASI, MELASQOL, change from baseline
        "Darkening at the malar edges", "Started azelaic acid", "grade 3 of 5",  # adverse event and its note
        "Microneedling consent body", "Scanned exosome consent body",  # consent texts
        "Consent to non-ablative fractional laser for melasma (version 1)",
        "consents/2025-09-09-exosome-v3.png",
        "Aftercare after your Microneedling treatment", "The first 24 hours",  # the sheet as issued
        "Treatment session", "Booked",  # appointments
        "Priya Desai",  # who opened the record
        "produced on 10 March 2026 at 10:30 by Cleo Clark",
    ]:
        assert value in text, value


def test_pdf_shows_what_an_amendment_changed_and_each_change_to_the_details(manager_client, tmp_path):
    record = two_course_patient()
    patient = record["patient"]
    patient.allergies = "Penicillin"
    patient.save()
    archive = _zip(_post(manager_client, patient))
    text = _pdf_text(archive.read("record-MRN-4711.pdf"), tmp_path)
    # Settings are listed in stored order (PostgreSQL's jsonb keeps its own): compare each side of the arrow.
    before, after = text.split("“Depth typed wrongly” Device settings: ", 1)[1].split(" → ", 1)
    after = after[:len("Needle depth (mm) 0.8; Passes 3")]
    assert "Needle depth (mm) 0.5" in before and "Passes 3" in before
    assert "Needle depth (mm) 0.8" in after and "Passes 3" in after
    assert "Performed at" not in text  # the same instant written in two time zones is not a change
    assert "Record created" in text
    assert "Allergies: — → Penicillin" in text


def test_pdf_embeds_the_photos_and_the_trend_chart(produced, tmp_path):
    _, archive = produced
    path = tmp_path / "record.pdf"
    path.write_bytes(archive.read("record-MRN-4711.pdf"))
    listing = subprocess.run(["pdfimages", "-list", str(path)], check=True, capture_output=True, text=True).stdout
    images = listing.splitlines()[2:]
    assert len(images) == 2  # the photo and the drawn signature (the chart is vector graphics)
    text = _pdf_text(path.read_bytes(), tmp_path)
    assert "mMASI (0–24)" in text and "MASI (0–48)" in text  # the chart's legend
    assert "11 Sep 2025 · Front · session 1 · full size: photos/2025-09-11-front.png" in text


def test_a_large_photo_is_scaled_down_in_the_pdf_and_kept_whole_in_the_zip(manager_client, tmp_path):
    record = two_course_patient()
    big = _image((2400, 1600), fmt="JPEG", colour="tan")
    _photo(record, content=big, fmt="JPEG")
    archive = _zip(_post(manager_client, record["patient"]))
    assert archive.read("photos/2025-09-11-front.jpeg") == big
    path = tmp_path / "record.pdf"
    path.write_bytes(archive.read("record-MRN-4711.pdf"))
    listing = subprocess.run(["pdfimages", "-list", str(path)], check=True, capture_output=True, text=True).stdout
    width, height = (int(v) for v in listing.splitlines()[2].split()[3:5])
    assert (width, height) == (1200, 800)


def test_staff_text_is_shown_as_text_without_internal_source_references(manager_client, tmp_path):
    record = two_course_patient()
    plan = record["first"]
    type(plan).objects.filter(pk=plan.pk).update(
        notes='Avoid heat (S54, S55). <img src="file:///etc/hostname"> kept as typed',
    )
    archive = _zip(_post(manager_client, record["patient"]))
    text = _pdf_text(archive.read("record-MRN-4711.pdf"), tmp_path)
    assert 'Avoid heat. <img src="file:///etc/hostname"> kept as typed' in text
    assert "S54" not in text


def test_a_photo_missing_from_storage_is_said_and_the_copy_still_produced(manager_client, tmp_path):
    record = two_course_patient()
    photo = _photo(record)
    photo.image.storage.delete(photo.image.name)
    archive = _zip(_post(manager_client, record["patient"]))
    assert not [n for n in archive.namelist() if n.startswith("photos/")]
    text = _pdf_text(archive.read("record-MRN-4711.pdf"), tmp_path)
    assert "The image file could not be read" in text


# --- a fixed number of queries --------------------------------------------------------------------------


def test_query_count_does_not_grow_with_the_record(django_assert_max_num_queries, manager):
    small = _grown(two_course_patient())
    large = _grown(two_course_patient(extra_sessions=6, extra_assessments=12, tag="-b"), photos=7, checks=9,
                   openings=15)
    for record in (small, large):
        with django_assert_max_num_queries(COPY_QUERIES):
            data = patient_copy_data(record["patient"].pk)
        # Building the ZIP and the PDF reads nothing more. Recording the copy: its full_clean (patient and user
        # exist), two inserts (the copy, the access log) and the savepoint around them.
        with django_assert_max_num_queries(COPY_QUERIES + 6):
            produced = patient_copy_produce(patient_id=record["patient"].pk, by=manager, path="/copy/")
        produced.file.close()
    assert len(data.courses) == 8
    assert len(data.photos) == 7
    assert len(data.access_log) == 15
    assert sum(len(s.checks_taken) for c in data.courses for s in c["sessions"]) == 9


# --- append-only ----------------------------------------------------------------------------------------


def test_a_copy_record_is_never_deleted(manager, produced):
    copy = PatientCopy.objects.get()
    with pytest.raises(PermissionError):
        copy.delete()
    with pytest.raises(PermissionError):
        PatientCopy.objects.all().delete()


@pytest.mark.postgres
@pytest.mark.parametrize("sql, rule", [
    ("DELETE FROM plans_patientcopy WHERE id = {id}", "patient copy records cannot be deleted"),
    ("UPDATE plans_patientcopy SET sha256 = 'x' WHERE id = {id}", "a patient copy record cannot be changed"),
])
def test_postgresql_refuses_to_rewrite_a_copy_record(produced, sql, rule):
    if connection.vendor != "postgresql":
        pytest.skip("the triggers exist only on PostgreSQL")
    copy = PatientCopy.objects.get()
    with pytest.raises(DatabaseError, match=f"append-only: {rule}"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.format(id=copy.pk))
