import pytest

pytestmark = pytest.mark.django_db


def test_patient_page_renders_for_clinician(clinician_client):
    from tests.factories import PatientFactory

    patient = PatientFactory(first_name="Maya", last_name="Rossi")
    response = clinician_client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    assert "Maya Rossi" in response.text
    assert "Screening answers" in response.text
