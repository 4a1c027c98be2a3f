"""Every URL of the project, walked as anonymous and as each role, checked against the permission matrix.

URL_MATRIX below is the documented matrix (README "Pages and who may use them" is generated from it by
`manage.py permission_matrix --pages`). A new URL without a row here fails test_every_url_is_in_the_matrix."""

import datetime as dt
import io

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image

from clinic.urlmatrix import ALL, PUBLIC, URL_MATRIX
from plans.models import CalendarFeedToken, ClinicianHours, ConsentKind
from tests.factories import (
    AdverseEventFactory, AppointmentFactory, ConsentFactory, ConsentTextFactory, LotFactory, PatientFactory,
    PlanFactory, ProtocolTemplateFactory, RoomFactory, TreatmentSessionFactory, UserFactory,
)

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "clinician", "front_desk", "manager"]


def _all_url_names():
    names = []

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.append(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns)
    return names


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(clinician):
    """One of everything a URL can point at."""
    patient = PatientFactory()
    plan = PlanFactory(patient=patient, state="active", created_by=clinician)
    lot = LotFactory(product=plan.exosome_product)
    done = TreatmentSessionFactory(plan=plan, number=1, status="completed", performed_by=clinician,
                                   performed_at=timezone.now() - dt.timedelta(hours=2), modality=plan.modality,
                                   exosome_lot=lot, completed_at=timezone.now())
    planned = TreatmentSessionFactory(plan=plan, number=2)
    for kind in (plan.modality, ConsentKind.EXOSOME):
        consent = ConsentFactory(plan=plan, text=ConsentTextFactory(kind=kind, version=1), clinician=clinician)
    consent.scanned_form.save("scan.png", ContentFile(_png()), save=True)
    from plans.models import Photo

    photo = Photo(patient=patient, session=done, taken_on=timezone.localdate(), view="front",
                  content_type="image/png", uploaded_by=clinician)
    photo.image.save("front.png", ContentFile(_png()), save=True)
    event = AdverseEventFactory(patient=patient, plan=plan, session=done, lot=lot, recorded_by=clinician)
    appointment = AppointmentFactory(patient=patient, plan=plan, session=TreatmentSessionFactory(plan=plan, number=3),
                                     clinician=clinician, room=RoomFactory(name="Room A"))
    hours = ClinicianHours.objects.create(clinician=clinician, weekday=0, start=dt.time(9), end=dt.time(17))
    token = CalendarFeedToken.objects.create(user=clinician)
    return {
        "user_id": UserFactory(role="clinician").pk, "patient_id": patient.pk, "plan_id": plan.pk,
        "session_id": done.pk, "planned_session_id": planned.pk, "consent_id": consent.pk, "template_id": ProtocolTemplateFactory().pk,
        "photo_id": photo.pk, "event_id": event.pk, "lot_id": lot.pk, "appointment_id": appointment.pk,
        "kind": plan.modality, "pk": hours.pk, "token": token.token, "section": "call_clinic", "modality": "all",
    }


def _url(name, world):
    overrides = URL_MATRIX[name].get("kwargs", {})
    values = {key: overrides.get(key, world[key]) for key in _ROUTE_KEYS[name]}
    # "@name" refers to another object of the world, e.g. a planned session instead of a completed one
    values = {k: world[v[1:]] if isinstance(v, str) and v.startswith("@") else v for k, v in values.items()}
    return reverse(name, kwargs=values)


def _collect_route_keys():
    keys = {}

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                keys[f"{namespace}{pattern.name}"] = list(pattern.pattern.converters)

    walk(get_resolver().url_patterns)
    return keys


_ROUTE_KEYS = _collect_route_keys()


def test_every_url_is_in_the_matrix():
    missing = sorted(set(_all_url_names()) - set(URL_MATRIX))
    stale = sorted(set(URL_MATRIX) - set(_all_url_names()))
    assert not missing, f"URLs without a row in clinic/urlmatrix.py: {missing}"
    assert not stale, f"rows in clinic/urlmatrix.py for URLs that no longer exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(URL_MATRIX))
def test_url_answers_as_the_matrix_says(role_clients, world, role, name):
    row = URL_MATRIX[name]
    url = _url(name, world)
    client = role_clients[role]
    response = client.post(url, row.get("data", {})) if row["method"] == "post" else client.get(url)
    allowed = row["roles"]
    if allowed == PUBLIC:
        assert response.status_code in (200, 302), (name, role, response.status_code)
    elif role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/"), (name, response.status_code)
    elif role in allowed:
        expected = row.get("status", {200} if row["method"] == "get" else {200, 302})
        assert response.status_code in expected, (name, role, response.status_code)
    else:
        assert response.status_code == 403, (name, role, response.status_code)


def test_calendar_feed_with_an_unknown_token_is_404(client):
    assert client.get("/calendar/not-a-real-token.ics").status_code == 404


def test_all_roles_constant_is_every_role():
    assert ALL == {"clinician", "front_desk", "manager"}
