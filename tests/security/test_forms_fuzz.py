"""Every form survives random input: no 500, and a rejected form leaves the database unchanged."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.fuzz import VALUE, database_fingerprint, form_field_names

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _fuzz_form(client, url, data_strategy):
    page = client.get(url)
    assert page.status_code == 200, url
    names = form_field_names(page.text)
    assert names, f"no form fields found on {url}"

    @FUZZ
    @given(data=st.fixed_dictionaries({}, optional={name: VALUE for name in names}))
    def run(data):
        before = database_fingerprint()
        response = client.post(url, data)
        assert response.status_code < 500
        if response.status_code == 200:
            assert database_fingerprint() == before, f"rejected form on {url} changed the database"

    run()


def test_patient_form_fuzz(clinician_client):
    _fuzz_form(clinician_client, "/patients/new/", None)


def test_patient_edit_form_fuzz(front_desk_client):
    from tests.factories import PatientFactory

    patient = PatientFactory()
    _fuzz_form(front_desk_client, f"/patients/{patient.pk}/edit/", None)


def test_staff_form_fuzz(manager_client):
    _fuzz_form(manager_client, "/staff/new/", None)


def test_password_change_fuzz(clinician_client):
    _fuzz_form(clinician_client, "/password/", None)
