"""A patient is never double-booked: the second booking of the same patient at an overlapping time, in another
room with another clinician, is answered on the form with the "already booked" message (on either database)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from plans.models import Appointment, ClinicianHours
from plans.services import scheduling as svc
from tests.factories import PatientFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2030, 1, 7, 9, 0, tzinfo=LONDON)  # a Monday morning
DAY = NOW.date() + dt.timedelta(days=1)


def _booking(room, clinician, time):
    return {"kind": "consultation", "date": DAY.isoformat(), "time": time, "room": room.pk, "clinician": clinician.pk}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "second_time, refused",
    [("10:00", True), ("10:30", True), ("09:31", True), ("09:00", False), ("11:00", False)],
    ids=["same time", "inside", "overlapping the start", "ending as it starts", "starting as it ends"],
)
def test_the_same_patient_cannot_be_booked_twice_at_once(front_desk, second_time, refused):
    desk = Client()
    desk.force_login(front_desk)  # signed in at the frozen now, so the idle timeout counts from it
    patient = PatientFactory()
    rooms = [RoomFactory(name="Room A"), RoomFactory(name="Room B")]
    clinicians = [UserFactory(role="clinician", username=f"dr_{i}") for i in range(2)]
    for clinician in clinicians:
        ClinicianHours.objects.create(clinician=clinician, weekday=DAY.weekday(), start=dt.time(8), end=dt.time(18))
    url = reverse("plans:appointment_new", args=[patient.pk])
    first = desk.post(url, _booking(rooms[0], clinicians[0], "10:00"))
    assert first.status_code == 302 and "login" not in first.url
    second = desk.post(url, _booking(rooms[1], clinicians[1], second_time))
    if refused:
        assert second.status_code == 200
        assert svc.ERR_PATIENT_BUSY in second.content.decode()
        assert Appointment.objects.filter(patient=patient).count() == 1
    else:
        assert second.status_code == 302
        assert Appointment.objects.filter(patient=patient).count() == 2
