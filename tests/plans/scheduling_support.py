"""Shared set-up for the scheduling tests: a small clinic (rooms, devices, hours) and an active plan."""

import datetime as dt

from django.utils import timezone

from plans.models import AppointmentLength, ClinicianHours
from tests.factories import DeviceFactory, PlanFactory, RoomFactory, TreatmentSessionFactory, UserFactory


def aware(day: str, time: str = "09:00") -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(time)))


def clinic(clinician=None, *, weekdays=range(5), start="09:00", end="17:00"):
    """Two rooms, a microneedling device and a laser, one clinician working the given weekdays."""
    clinician = clinician or UserFactory(role="clinician", username="dr_hours", first_name="Hana", last_name="Hours")
    rooms = [RoomFactory(name="Room A"), RoomFactory(name="Room B")]
    devices = [
        DeviceFactory(name="Dermapen", modalities=["microneedling"]),
        DeviceFactory(name="Thulium 1927", modalities=["nafl"]),
    ]
    for weekday in weekdays:
        ClinicianHours.objects.create(
            clinician=clinician, weekday=weekday, start=dt.time.fromisoformat(start), end=dt.time.fromisoformat(end)
        )
    AppointmentLength.objects.create(kind="microneedling", minutes=60)
    AppointmentLength.objects.create(kind="follow_up", minutes=30)
    return {"clinician": clinician, "rooms": rooms, "devices": devices}


def active_plan(*, start="2030-01-07", sessions=4, clinician=None, **kwargs):
    kwargs.setdefault("created_by", clinician or UserFactory(role="clinician"))
    plan = PlanFactory(
        state="active", start_date=dt.date.fromisoformat(start), sessions_planned=sessions, interval_days=28,
        followup_months=[1, 3, 6], **kwargs,
    )
    for number in range(1, sessions + 1):
        TreatmentSessionFactory(plan=plan, number=number)
    return plan
