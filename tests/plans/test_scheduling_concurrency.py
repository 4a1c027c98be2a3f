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
