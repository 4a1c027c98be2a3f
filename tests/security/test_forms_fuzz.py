"""Every form survives random input: no 500, and a rejected form leaves the database unchanged."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.urlmatrix import PUBLIC, URL_MATRIX
from tests.security.conftest import url_for
from tests.security.fuzz import VALUE, database_fingerprint, form_field_names, main_form

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


# A FHIR Patient's elements, each given random JSON: the import (patients:new, plans/fhir/importing.py) answers
# with the form filled in or a message, never a 500, and saves nothing.
PATIENT_ELEMENTS = ["id", "meta", "identifier", "active", "name", "telecom", "gender", "birthDate", "_birthDate",
                    "deceasedBoolean", "address", "contact", "photo", "extension", "modifierExtension", "link"]
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10**20, max_value=10**20) | VALUE,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["family", "given", "text", "system", "value", "use", "code", "coding", "url", "line"])
        | st.text(max_size=8),
        inner, max_size=4),
    max_leaves=12,
)


def test_fhir_patient_import_fuzz(front_desk_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    @FUZZ
    @given(resource=st.fixed_dictionaries({"resourceType": st.sampled_from(["Patient", "Bundle", "Patient "])},
                                          optional={name: JSON_VALUE for name in PATIENT_ELEMENTS}),
           raw=st.none() | st.binary(max_size=200))
    def run(resource, raw):
        import json

        content = raw if raw is not None else json.dumps(resource).encode()
        before = database_fingerprint()
        response = front_desk_client.post("/patients/new/", {
            "fhir_import": "Import from FHIR", "fhir_file": SimpleUploadedFile("p.json", content, "application/json"),
        })
        assert response.status_code == 200, (resource, raw)
        assert database_fingerprint() == before

    run()


def test_staff_form_fuzz(manager_client):
    _fuzz_form(manager_client, "/staff/new/", None)


def test_password_change_fuzz(clinician_client):
    _fuzz_form(clinician_client, "/password/", None)


# Every page of the matrix that shows a form, fuzzed as the first role allowed to use it. Pages that show no
# form of their own are listed, so a form page never drops out of the fuzzing unnoticed.
NO_FORM = {
    "access_log_export", "dashboard", "password_change_done", "staff_list", "patients:detail", "patients:fhir",
    "patients:history", "plans:fhir_exports", "plans:fhir_export_file",
    "plans:adverse_events_export", "plans:adverse_events_report", "plans:aftercare", "plans:aftercare_pdf",
    "plans:aftercare_texts", "plans:calendar_settings", "plans:consent_scan", "plans:consent_texts",
    "plans:detail", "plans:lots", "plans:photo", "plans:products", "plans:resources", "plans:schedule_day_sheet",
    "plans:schedule_reminders", "plans:summary", "plans:templates",
    "plans:adverse_event_report_pdf", "plans:adverse_events_inspector_export", "plans:outcomes_csv", "plans:recalls",
}
FORM_PAGES = sorted(name for name, row in URL_MATRIX.items()
                    if row["method"] == "get" and row["roles"] != PUBLIC and name not in NO_FORM)
FEW = settings(max_examples=12, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _ready_to_record(world, clinician):
    """The record form shows only after today's passing pre-session check."""
    from plans import rules
    from plans.models import TreatmentSession
    from plans.services.visits import pre_session_check_record

    answers = rules.PreSessionAnswers(pregnant=False, new_medicines="", recent_sun_or_tan=False,
                                      active_lesion_or_infection=False, topical_pauses_kept=True, antiviral_taken=None)
    from django.utils import timezone

    from plans.models import AdverseEvent

    AdverseEvent.objects.filter(pk=world["event_id"]).update(reviewed_by=clinician, reviewed_at=timezone.now())
    session = TreatmentSession.objects.get(pk=world["planned_session_id"])
    pre_session_check_record(session=session, answers=answers, by=clinician)


@pytest.mark.parametrize("name", FORM_PAGES)
def test_every_form_survives_random_input(role_clients, world, clinician, name):
    row = URL_MATRIX[name]
    role = sorted(row["roles"])[0]
    client = role_clients[role]
    if name == "plans:session_record":
        _ready_to_record(world, clinician)
    url = url_for(name, world)
    page = client.get(url)
    assert page.status_code == 200, (name, page.status_code)
    form = main_form(page.text)
    assert form is not None, f"{name} shows no form: add it to NO_FORM if that is right"
    target = form["action"] or url

    @FEW
    @given(data=st.fixed_dictionaries({}, optional={field: VALUE for field in form["names"]}))
    def run(data):
        before = database_fingerprint()
        response = client.post(target, data) if form["method"] == "post" else client.get(target, data)
        assert response.status_code < 500, (name, data)
        if form["method"] == "post" and response.status_code == 200:
            assert database_fingerprint() == before, f"rejected form on {name} changed the database: {data}"

    run()
