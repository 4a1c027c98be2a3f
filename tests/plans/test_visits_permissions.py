"""Permission ladder for every visits URL: anonymous → login, wrong role → 403, right role → 200/302."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from plans.services import visits as services
from tests.factories import AdverseEventFactory, LotFactory, PlanFactory, TreatmentSessionFactory, UserFactory
from tests.plans.test_visits_sessions import GOOD_ANSWERS

CLINICIAN, FRONT_DESK, MANAGER = "clinician", "front_desk", "manager"
ALL = {CLINICIAN, FRONT_DESK, MANAGER}
STAFF = {CLINICIAN, MANAGER}


@pytest.fixture
def objects(db):
    doctor = UserFactory(username="ladder_doc", role="clinician")
    plan = PlanFactory(state="active")
    planned = TreatmentSessionFactory(plan=plan, number=1)
    services.pre_session_check_record(session=planned, answers=GOOD_ANSWERS, by=doctor)
    lot = LotFactory()
    done = TreatmentSessionFactory(
        plan=plan, number=2, status="completed", performed_at=timezone.now(), performed_by=doctor, exosome_lot=lot,
        device_name="Dermapen", device_settings={"passes": 2},
    )
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG")
    photo = services.photo_upload(
        patient=plan.patient, session=done, view="front", taken_on=timezone.localdate(),
        upload=SimpleUploadedFile("p.jpg", out.getvalue(), "image/jpeg"), by=doctor,
    )
    event = AdverseEventFactory(patient=plan.patient, plan=plan, session=done, lot=lot)
    return {"plan": plan, "planned": planned, "done": done, "lot": lot, "photo": photo, "event": event}


# (url name, object key, method, data, roles allowed); data that holds a date is built when the test runs, not
# when it is collected, so a run that passes midnight still posts "today".
LADDER = [
    ("session", "planned", "get", None, ALL),
    ("session_check", "planned", "get", None, {CLINICIAN}),
    ("session_record", "planned", "get", None, {CLINICIAN}),
    ("session_amend", "done", "get", None, {CLINICIAN}),
    ("session_assessment_new", "done", "get", None, {CLINICIAN}),
    ("session_photo_new", "done", "get", None, {CLINICIAN}),
    ("session_adverse_event_new", "done", "get", None, {CLINICIAN}),
    ("plan_assessment_new", "plan", "get", None, {CLINICIAN}),
    ("plan_photo_new", "plan", "get", None, {CLINICIAN}),
    ("plan_adverse_event_new", "plan", "get", None, {CLINICIAN}),
    ("photo", "photo", "get", None, STAFF),
    ("adverse_events", None, "get", None, STAFF),
    ("adverse_events_export", None, "get", None, STAFF),
    ("adverse_events_report", None, "get", None, STAFF),
    ("adverse_event", "event", "get", None, STAFF),
    ("adverse_event_note", "event", "post", {"note": "Follow-up call"}, {CLINICIAN}),
    ("adverse_event_review", "event", "post", {}, {CLINICIAN}),
    ("adverse_event_resolve", "event", "post", lambda: {"outcome": "resolved", "resolved_on": timezone.localdate().isoformat()}, {CLINICIAN}),
    ("adverse_event_correct", "event", "get", None, {CLINICIAN}),
    ("lots", None, "get", None, STAFF),
    ("lot_new", None, "get", None, STAFF),
    ("products", None, "get", None, STAFF),
    ("product_new", None, "get", None, STAFF),
    ("lot", "lot", "get", None, STAFF),
    ("lot_recall", "lot", "post", {"reason": "Manufacturer notice"}, STAFF),
]


@pytest.mark.parametrize("name, key, method, data, allowed", LADDER, ids=[row[0] for row in LADDER])
def test_permission_ladder(role_clients, objects, name, key, method, data, allowed):
    url = reverse(f"plans:{name}", args=[objects[key].pk] if key else [])
    data = data() if callable(data) else data
    call = lambda client: getattr(client, method)(url, data or {})  # noqa: E731

    anonymous = call(role_clients["anonymous"])
    assert anonymous.status_code == 302 and anonymous.url.startswith("/login/")
    for role in sorted(ALL - allowed):
        assert call(role_clients[role]).status_code == 403, role
    for role in sorted(allowed):
        assert call(role_clients[role]).status_code in (200, 302), role
    if method == "post":
        assert role_clients[sorted(allowed)[0]].get(url).status_code == 405


def test_wrong_role_post_changes_nothing(role_clients, objects):
    event, lot = objects["event"], objects["lot"]
    role_clients["front_desk"].post(reverse("plans:adverse_event_review", args=[event.pk]))
    role_clients["manager"].post(reverse("plans:adverse_event_review", args=[event.pk]))
    role_clients["front_desk"].post(reverse("plans:lot_recall", args=[lot.pk]), {"reason": "x"})
    event.refresh_from_db()
    lot.refresh_from_db()
    assert event.reviewed_at is None and lot.recalled_at is None
