"""Front desk creates a patient from a FHIR Patient file: the form is filled in for checking, Save creates it
(issue 15 §4)."""

import json

import pytest

from patients.models import Patient
from tests.browser.conftest import login, shot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PATIENT = {
    "resourceType": "Patient",
    "identifier": [{"system": "https://clinic.example.org/fhir/sid/mrn", "value": "MRN-5150"}],
    "name": [{"use": "official", "family": "Haddad", "given": ["Leila"]}],
    "gender": "female",
    "birthDate": "1988-04-12",
    "telecom": [{"system": "phone", "value": "+44 7700 900123"}, {"system": "phone", "value": "020 7946 0000",
                                                                 "use": "work"}],
    "photo": [{"contentType": "image/png", "data": "iVBORw0KGgo="}],
}


def test_front_desk_imports_a_fhir_patient_checks_it_and_saves(page, tmp_path):
    UserFactory(username="frontdesk", role="front_desk", password="demo-clinic")
    file = tmp_path / "leila.json"
    file.write_text(json.dumps(PATIENT))
    login(page, "frontdesk")
    page.goto("/patients/new/")

    page.get_by_label("FHIR Patient resource (JSON)").set_input_files(str(file))
    page.get_by_role("button", name="Import from FHIR").click()
    page.get_by_text("Read from leila.json.").wait_for()
    assert page.get_by_label("First name").input_value() == "Leila"
    assert page.get_by_label("Medical record number").input_value() == "MRN-5150"
    assert page.get_by_label("Date of birth").input_value() == "1988-04-12"
    assert page.get_by_label("Phone").input_value() == "+44 7700 900123"
    assert not page.get_by_label("Agrees to email").is_checked()
    assert "phone (work) 020 7946 0000" in page.locator("#fhir-not-imported").inner_text()
    assert not Patient.objects.exists()
    shot(page, "patients-05-fhir-import-filled-in")

    page.get_by_role("button", name="Save patient").click()
    page.get_by_role("heading", name="Leila Haddad").wait_for()
    assert Patient.objects.get().mrn == "MRN-5150"
