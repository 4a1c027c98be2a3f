"""Two desks book the same slot at the same moment, through real HTTP requests against the live server on
PostgreSQL: exactly one succeeds, the other gets a clear message. The database constraint is the guarantee."""

import datetime as dt
import http.cookiejar
import re
import threading
import urllib.parse
import urllib.request

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from plans.models import Appointment
from plans.services import scheduling as svc
from tests.factories import AppointmentFactory, PatientFactory, UserFactory
from tests.plans.scheduling_support import clinic

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (the exclusion constraints exist only there)")


class Desk:
    """A browser-like HTTP client with its own cookies, signed in through the login form."""

    def __init__(self, base_url: str, username: str):
        self.base = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        token = self._token("/login/")
        self.post("/login/", {"username": username, "password": "demo-clinic", "csrfmiddlewaretoken": token})

    def _token(self, path):
        with self.opener.open(self.base + path) as response:
            return CSRF_RE.search(response.read().decode()).group(1)

    def form_token(self, path):
        return self._token(path)

    def post(self, path, data):
        request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(data).encode(),
                                         headers={"Referer": self.base + path})
        with self.opener.open(request) as response:
            return response.geturl(), response.read().decode()


def test_two_desks_booking_the_same_slot_at_once_exactly_one_wins(live_server):
    setup = clinic(weekdays=range(7), start="07:00", end="20:00")
    for name in ("desk_one", "desk_two"):
        UserFactory(username=name, role="front_desk", password="demo-clinic")
    patients = [PatientFactory(), PatientFactory()]
    day = timezone.localdate() + dt.timedelta(days=3)
    desks = [Desk(live_server.url, "desk_one"), Desk(live_server.url, "desk_two")]
    paths = [reverse("plans:appointment_new", args=[p.pk]) for p in patients]
    forms = [
        {"csrfmiddlewaretoken": desk.form_token(path), "kind": "consultation", "date": day.isoformat(),
         "time": "10:00", "room": setup["rooms"][0].pk, "clinician": setup["clinician"].pk}
        for desk, path in zip(desks, paths, strict=True)
    ]
    barrier = threading.Barrier(2)
    results = [None, None]

    def book(index):
        barrier.wait()
        results[index] = desks[index].post(paths[index], forms[index])

    threads = [threading.Thread(target=book, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Appointment.objects.count() == 1
    refused = [body for url, body in results if "/appointments/new/" in url]
    accepted = [url for url, body in results if "/appointments/new/" not in url]
    assert len(accepted) == 1 and len(refused) == 1
    clear_messages = [
        svc.ERR_SLOT_TAKEN,
        svc.ERR_ROOM_BUSY.format(name="Room A"),
        svc.ERR_CLINICIAN_BUSY.format(name="Hana Hours"),
    ]
    assert any(message in refused[0] for message in clear_messages), refused[0][:2000]


def test_the_database_refuses_overlaps_the_application_did_not_check():
    setup = clinic()
    start = timezone.now() + dt.timedelta(days=2)
    AppointmentFactory(start=start, room=setup["rooms"][0], clinician=setup["clinician"])
    for overlap in (
        {"room": setup["rooms"][0], "clinician": UserFactory(role="clinician")},
        {"room": setup["rooms"][1], "clinician": setup["clinician"]},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            AppointmentFactory(start=start + dt.timedelta(minutes=30), **overlap)
    # Back to back is fine, and a cancelled appointment holds nothing.
    AppointmentFactory(start=start + dt.timedelta(minutes=60), room=setup["rooms"][0], clinician=setup["clinician"])
    Appointment.objects.filter(start=start).update(status="cancelled")
    AppointmentFactory(start=start, room=setup["rooms"][0], clinician=setup["clinician"])
    assert Appointment.objects.count() == 3


# --- a patient is never double-booked ----------------------------------------------------------------------

START = dt.datetime(2030, 1, 8, 10, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in London; fixed, never read from a clock
BOOKED_AT = START - dt.timedelta(days=3)
ATTEMPTS = 50


def _staffed_rooms(count: int):
    """`count` rooms and `count` clinicians working every day, so nothing but the patient can clash."""
    from plans.models import ClinicianHours
    from tests.factories import RoomFactory

    rooms = [RoomFactory(name=f"Race room {i:02d}") for i in range(count)]
    clinicians = [UserFactory(role="clinician", username=f"race_dr_{i:02d}") for i in range(count)]
    ClinicianHours.objects.bulk_create(
        ClinicianHours(clinician=c, weekday=day, start=dt.time(7), end=dt.time(20)) for c in clinicians for day in range(7)
    )
    return rooms, clinicians


def test_fifty_desks_booking_one_patient_at_the_same_time_book_exactly_one():
    """50 concurrent bookings of the same patient at the same time, each with its own room and clinician: one
    is booked, the 49 others get the clear 'already booked' message (never an error page)."""
    patient = PatientFactory()
    desk = UserFactory(role="front_desk", username="race_desk")
    rooms, clinicians = _staffed_rooms(ATTEMPTS)
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list = [None] * ATTEMPTS

    def book(index):
        try:
            barrier.wait(timeout=60)
            slot = svc.Slot(kind="consultation", start=START, room=rooms[index], clinician=clinicians[index])
            svc.appointment_book(patient=patient, slot=slot, by=desk, now=BOOKED_AT)
            outcomes[index] = "booked"
        except svc.BookingError as exc:
            outcomes[index] = exc.message
        except Exception as exc:  # noqa: BLE001 - reported, so a 500-worthy error fails the test clearly
            outcomes[index] = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert outcomes.count("booked") == 1, outcomes
    assert outcomes.count(svc.ERR_PATIENT_BUSY) == ATTEMPTS - 1, [o for o in outcomes if o != "booked"][:3]
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_the_database_refuses_a_patient_overlap_the_application_did_not_check():
    rooms, clinicians = _staffed_rooms(2)
    patient = PatientFactory()
    AppointmentFactory(patient=patient, start=START, room=rooms[0], clinician=clinicians[0])
    with pytest.raises(IntegrityError, match="appointment_no_patient_overlap"), transaction.atomic():
        AppointmentFactory(patient=patient, start=START + dt.timedelta(minutes=59), room=rooms[1],
                           clinician=clinicians[1])
    # Back to back is fine; another patient is fine; a cancelled or no-show appointment holds nothing.
    AppointmentFactory(patient=patient, start=START + dt.timedelta(minutes=60), room=rooms[1],
                       clinician=clinicians[1])
    AppointmentFactory(start=START, room=rooms[1], clinician=clinicians[1], status="cancelled")
    for status in ("cancelled", "no_show"):
        Appointment.objects.filter(patient=patient, start=START).update(status=status)
        AppointmentFactory(patient=patient, start=START, room=rooms[0], clinician=clinicians[0],
                           status="booked")
        Appointment.objects.filter(patient=patient, start=START, status="booked").update(status="cancelled")


def test_with_the_services_check_removed_the_constraint_still_answers_already_booked(monkeypatch):
    """The convention removed: without the service's own overlap check the database refuses, and the desk
    still gets the patient message, not 'slot taken' and not an error page."""
    rooms, clinicians = _staffed_rooms(2)
    patient, desk = PatientFactory(), UserFactory(role="front_desk")
    monkeypatch.setattr(svc, "_check_resources", lambda **kwargs: None)
    first = svc.Slot(kind="consultation", start=START, room=rooms[0], clinician=clinicians[0])
    svc.appointment_book(patient=patient, slot=first, by=desk, now=BOOKED_AT)
    second = svc.Slot(kind="consultation", start=START, room=rooms[1], clinician=clinicians[1])
    with pytest.raises(svc.BookingError) as refusal:
        svc.appointment_book(patient=patient, slot=second, by=desk, now=BOOKED_AT)
    assert refusal.value.message == svc.ERR_PATIENT_BUSY
    assert Appointment.objects.filter(patient=patient).count() == 1
