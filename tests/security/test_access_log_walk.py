"""Issue 11 item 4: every page, file and export that shows a patient's identifiable or clinical data leaves one
access-log row per patient shown, with the user, the patient and the address.

The world (tests/security/conftest.py) is one patient with an active plan, a completed session (exosome lot,
photo, adverse event), a planned one, consents with a scanned form and an appointment. Every URL of the project
is classified below as logged or not (with the reason), so a new URL fails test_every_url_is_classified until
someone decides."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from clinic.models import AccessLog
from clinic.urlmatrix import URL_MATRIX
from tests.factories import AdverseEventFactory, LotFactory, PatientFactory, PlanFactory, TreatmentSessionFactory
from tests.security.conftest import url_for

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")

# URL name -> (role that opens it, method). Each shows the world's one patient.
LOGGED = {
    "patients:detail": ("clinician", "get"),
    "patients:edit": ("front_desk", "get"),
    "patients:history": ("manager", "get"),
    "plans:new": ("clinician", "get"),
    "plans:detail": ("front_desk", "get"),
    "plans:edit": ("clinician", "get"),
    "plans:summary": ("front_desk", "get"),
    "plans:stop": ("clinician", "get"),
    "plans:consent": ("clinician", "get"),
    "plans:consent_scan": ("manager", "get"),
    "plans:session": ("front_desk", "get"),
    "plans:session_check": ("clinician", "get"),
    "plans:session_amend": ("clinician", "get"),
    "plans:session_skip": ("clinician", "get"),
    "plans:session_assessment_new": ("clinician", "get"),
    "plans:session_photo_new": ("clinician", "get"),
    "plans:session_adverse_event_new": ("clinician", "get"),
    "plans:plan_assessment_new": ("clinician", "get"),
    "plans:plan_photo_new": ("clinician", "get"),
    "plans:plan_adverse_event_new": ("clinician", "get"),
    "plans:photo": ("manager", "get"),
    "plans:adverse_events": ("manager", "get"),
    "plans:adverse_events_export": ("clinician", "get"),
    "plans:adverse_events_report": ("manager", "get"),
    "plans:adverse_event": ("clinician", "get"),
    "plans:adverse_event_correct": ("clinician", "get"),
    "plans:lot": ("manager", "get"),
    "plans:plan_book": ("front_desk", "get"),
    "plans:appointment_new": ("front_desk", "get"),
    "plans:appointment_reschedule": ("front_desk", "get"),
    "plans:appointment_cancel": ("manager", "get"),
    "plans:aftercare": ("front_desk", "get"),
    "plans:aftercare_pdf": ("clinician", "get"),
    "plans:aftercare_email": ("front_desk", "post"),
    "plans:adverse_event_report_pdf": ("clinician", "get"),
    "plans:adverse_events_inspector_export": ("manager", "get"),
    "patients:fhir": ("clinician", "get"),
    "patients:copy": ("manager", "post"),
}

# POST actions that answer with a file (200) rather than a redirect to a logged page.
POSTS_ANSWERING_WITH_A_FILE = {"patients:copy"}

NOT_LOGGED = {
    # No patient's data: sign-in, health, the user's own settings, configuration, the audit pages themselves.
    **dict.fromkeys([
        "login", "logout", "healthz", "livez", "password_change", "password_change_done", "staff_list", "staff_new",
        "staff_edit", "staff_changes", "access_log", "access_log_export", "patients:new", "plans:templates",
        "plans:template_new", "plans:template_edit", "plans:consent_texts", "plans:consent_text_new", "plans:lots",
        "plans:lot_new", "plans:products", "plans:product_new", "plans:resources", "plans:resource_new",
        "plans:resource_edit", "plans:hours_delete", "plans:calendar_settings", "plans:calendar_regenerate",
        "plans:aftercare_texts", "plans:aftercare_text_edit",
    ], "shows no patient"),
    # Aggregates over groups of courses (groups under the minimum size show counts only), never a patient row.
    **dict.fromkeys(["plans:outcomes", "plans:outcomes_csv"], "aggregates only"),
    # Working lists: names and times to find a record or run the day, not the record itself (a decision for
    # the desk's busiest pages; the record they lead to is logged when opened).
    **dict.fromkeys([
        "dashboard", "patients:list", "plans:schedule_day", "plans:schedule_week", "plans:schedule_day_sheet",
        "plans:schedule_reminders", "plans:recalls",
    ], "working list"),
    # Initials and record number only, fetched by a calendar app every few minutes; its address is a secret
    # that must not be stored (clinic/logmask.py).
    "plans:calendar_feed": "pseudonymous feed",
    # POST actions answer with a redirect to a logged page (or an error message on it); the page they lead
    # to writes the row.
    **dict.fromkeys([
        "patients:confirm_screening", "patients:archive", "patients:restore", "plans:override", "plans:activate",
        "plans:complete", "plans:adverse_event_note", "plans:adverse_event_review", "plans:adverse_event_resolve",
        "plans:lot_recall", "plans:appointment_check_in", "plans:appointment_no_show",
        "plans:adverse_event_report_new", "plans:adverse_event_reported",
    ], "action, redirects to a logged page"),
    "plans:fhir_exports": "shows no patient",
    # The world has no bulk export (404 here); a download logs one row per exported patient, tested in
    # tests/fhir/test_bulk.py.
    "plans:fhir_export_file": "tested with an export in tests/fhir/test_bulk.py",
    # Redirects to the pre-session check until one has passed today (tested below, once the check is done).
    "plans:session_record": "redirects until the check passes",
}


USERNAMES = {"clinician": "dr_adams", "front_desk": "desk_brown", "manager": "mgr_clark"}  # tests/conftest.py


def test_every_url_is_classified():
    classified = set(LOGGED) | set(NOT_LOGGED)
    assert not set(URL_MATRIX) - classified, "decide whether these pages show a patient and must be logged"
    assert not set(LOGGED) & set(NOT_LOGGED)


def _new_rows(since: int):
    return list(AccessLog.objects.filter(pk__gt=since).order_by("pk").values_list("user__username", "patient_id", "path"))


def _last_id() -> int:
    return AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.parametrize("name", sorted(LOGGED))
def test_each_patient_page_file_and_export_leaves_one_row(role_clients, world, name):
    role, method = LOGGED[name]
    client = role_clients[role]
    url = url_for(name, world)
    username = USERNAMES[role]
    since = _last_id()

    response = client.post(url) if method == "post" else client.get(url)

    expected = {302} if method == "post" and name not in POSTS_ANSWERING_WITH_A_FILE else {200}
    assert response.status_code in expected, (name, response.status_code)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    assert _new_rows(since) == [(username, world["patient_id"], url.split("?")[0])]


@time_machine.travel(dt.datetime(2026, 11, 30, 23, 50, tzinfo=LONDON), tick=False)  # a check taken "today"
def test_the_session_record_page_is_logged_once_the_check_passed(clinician):
    from django.test import Client

    from plans.models import PreSessionCheck

    clinician_client = Client()
    clinician_client.force_login(clinician)  # signed in at the frozen time
    plan = PlanFactory(state="active")
    session = TreatmentSessionFactory(plan=plan, number=1)
    PreSessionCheck.objects.create(session=session, by=clinician, passed=True)
    since = _last_id()
    response = clinician_client.get(reverse("plans:session_record", args=[session.pk]))
    assert response.status_code == 200
    assert _new_rows(since) == [("dr_adams", plan.patient_id, f"/sessions/{session.pk}/record/")]


def test_a_page_served_from_the_page_cache_is_logged_too(front_desk_client, world):
    for name in ("patients:detail", "plans:detail", "plans:aftercare"):
        url = url_for(name, world)
        front_desk_client.get(url)  # renders and keeps the page
        since = _last_id()
        assert front_desk_client.get(url).status_code == 200  # served as kept
        assert _new_rows(since) == [("desk_brown", world["patient_id"], url)], name


def test_reports_exports_and_lots_log_one_row_per_patient_shown(clinician_client, clinician):
    lot = LotFactory()
    patients = [PatientFactory() for _ in range(3)]
    for patient in patients:
        plan = PlanFactory(patient=patient, state="active")
        TreatmentSessionFactory(plan=plan, number=1, status="completed", exosome_lot=lot)
        # two events for one patient: still one row for that patient
        AdverseEventFactory(patient=patient, plan=plan, lot=lot, recorded_by=clinician)
        AdverseEventFactory(patient=patient, plan=plan, lot=lot, recorded_by=clinician)
    bystander = PatientFactory()  # shown nowhere, logged nowhere
    expected = {p.pk for p in patients}
    for url in ("/adverse-events/", "/adverse-events/report/", "/adverse-events/export.csv", f"/lots/{lot.pk}/"):
        since = _last_id()
        assert clinician_client.get(url).status_code == 200
        rows = _new_rows(since)
        assert sorted(r[1] for r in rows) == sorted(expected), url
        assert {(r[0], r[2]) for r in rows} == {("dr_adams", url)}
    assert not AccessLog.objects.filter(patient=bystander).exists()


def test_a_refused_or_unknown_page_logs_nothing(role_clients, world):
    since = _last_id()
    assert role_clients["front_desk"].get(f"/photos/{world['photo_id']}/").status_code == 403
    assert role_clients["clinician"].get("/plans/999999/").status_code == 404
    assert role_clients["clinician"].get("/sessions/999999/aftercare/").status_code == 404
    assert role_clients["anonymous"].get(f"/patients/{world['patient_id']}/").status_code == 302
    assert _new_rows(since) == []
