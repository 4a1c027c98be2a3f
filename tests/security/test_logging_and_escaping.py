"""Security (issue 7): nothing identifying a patient in the application log; typed markup shown escaped."""

import logging

import pytest

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_application_log_names_no_patient(clinician_client, caplog):
    patient = PatientFactory(first_name="Zenobia", last_name="Quillfeather", mrn="MRN-777123",
                             phone="+44 7700 900777", email="zenobia@example.com")
    with caplog.at_level(logging.DEBUG):
        clinician_client.get("/patients/", {"q": "Quillfeather"})
        clinician_client.get(f"/patients/{patient.pk}/")
        clinician_client.get(f"/patients/{patient.pk}/history/")  # 403, logged as a warning
        clinician_client.get("/patients/999999/")  # 404, logged as a warning
        clinician_client.post(f"/patients/{patient.pk}/edit/", {"first_name": "Zenobia", "phone": "bad phone"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "expected some log records (403/404 warnings) to inspect"
    for identifying in ("Zenobia", "Quillfeather", "MRN-777123", "900777", "zenobia@example.com"):
        assert identifying not in logged


def test_markup_in_free_text_is_shown_escaped(clinician_client):
    patient = PatientFactory(first_name=MARKUP[:100], trigger_other=MARKUP[:200], screening_notes=MARKUP,
                             allergies=MARKUP[:300])
    for url in (f"/patients/{patient.pk}/", "/patients/", f"/patients/{patient.pk}/edit/"):
        page = clinician_client.get(url).text
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert" in page
