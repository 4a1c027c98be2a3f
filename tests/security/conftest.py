"""The security tests' world: one of everything a URL of the project can point at, and a URL builder."""

import datetime as dt
import io

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image

from clinic.urlmatrix import URL_MATRIX
from plans.models import AdverseEventReport, CalendarFeedToken, ClinicianHours, ConsentKind, Photo
from tests.factories import (
    AdverseEventFactory, AppointmentFactory, ConsentFactory, ConsentTextFactory, LotFactory, PatientFactory,
    PlanFactory, ProtocolTemplateFactory, RoomFactory, TreatmentSessionFactory, UserFactory,
)


def route_keys() -> dict[str, list[str]]:
    """URL name -> the keyword arguments its route takes, for every URL of the project."""
    keys = {}

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                keys[f"{namespace}{pattern.name}"] = list(pattern.pattern.converters)

    walk(get_resolver().url_patterns)
    return keys


ROUTE_KEYS = route_keys()


def url_for(name: str, world: dict) -> str:
    overrides = URL_MATRIX[name].get("kwargs", {})
    values = {key: overrides[key] if key in overrides else world[key] for key in ROUTE_KEYS[name]}
    # "@name" refers to another object of the world, e.g. a planned session instead of a completed one
    values = {k: world[v[1:]] if isinstance(v, str) and v.startswith("@") else v for k, v in values.items()}
    return reverse(name, kwargs=values)


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
        # The scan is stored with the consent: a signed consent is never changed afterwards (PostgreSQL refuses).
        scan = ContentFile(_png(), name="scan.png") if kind == ConsentKind.EXOSOME else ""
        consent = ConsentFactory(plan=plan, text=ConsentTextFactory(kind=kind, version=1), clinician=clinician,
                                 scanned_form=scan)
    photo = Photo(patient=patient, session=done, taken_on=timezone.localdate(), view="front",
                  content_type="image/png", uploaded_by=clinician)
    photo.image.save("front.png", ContentFile(_png()), save=True)
    event = AdverseEventFactory(patient=patient, plan=plan, session=done, lot=lot, recorded_by=clinician)
    appointment = AppointmentFactory(patient=patient, plan=plan, session=TreatmentSessionFactory(plan=plan, number=3),
                                     clinician=clinician, room=RoomFactory(name="Room A"))
    hours = ClinicianHours.objects.create(clinician=clinician, weekday=0, start=dt.time(9), end=dt.time(17))
    token = CalendarFeedToken.objects.create(user=clinician)
    report = AdverseEventReport.objects.create(event=event, number=1, content={}, pdf=b"%PDF-1.4", sha256="0" * 64,
                                               created_by=clinician)
    return {
        "user_id": UserFactory(role="clinician").pk, "patient_id": patient.pk, "plan_id": plan.pk,
        "session_id": done.pk, "planned_session_id": planned.pk, "consent_id": consent.pk,
        "template_id": ProtocolTemplateFactory().pk, "photo_id": photo.pk, "event_id": event.pk, "lot_id": lot.pk,
        "appointment_id": appointment.pk, "kind": plan.modality, "pk": hours.pk, "token": token.token,
        "section": "call_clinic", "modality": "all", "report_id": report.pk,
    }
