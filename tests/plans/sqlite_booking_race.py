"""Run by tests/plans/test_scheduling_sqlite_concurrency.py in a subprocess: concurrent bookings of one patient
against a real SQLite *file* with the project's settings (the test suite's own SQLite database is in memory,
where connections share a cache and locks behave differently from the demo's file).

    DATABASE_URL=sqlite:////tmp/x.sqlite3 python tests/plans/sqlite_booking_race.py WRITERS MODE [MODE ...]

For each MODE ("IMMEDIATE" as in clinic/settings.py, or "DEFERRED", SQLite's default) it books a fresh patient
from WRITERS threads at once and prints one JSON line: {"mode": ..., "outcomes": [...]}, each outcome "booked",
the BookingError message, or the error's type and text.
"""

import datetime as dt
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings_test")
START = dt.datetime(2030, 1, 8, 10, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in London
BOOKED_AT = START - dt.timedelta(days=3)
# Each booking pauses after its checks, before its insert, so every writer has read before any writes: the
# interleaving that made two tabs fail with "database is locked".
PAUSE_AFTER_CHECK = 0.3


def main(writers: int, modes: list[str]) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    from plans.models import ClinicianHours
    from plans.services import scheduling as svc
    from tests.factories import PatientFactory, RoomFactory, UserFactory

    assert connection.vendor == "sqlite" and settings.DATABASES["default"]["NAME"] != ":memory:"
    call_command("migrate", verbosity=0)
    desk = UserFactory(role="front_desk", username="race_desk")
    rooms = [RoomFactory(name=f"Race room {i}") for i in range(writers)]
    clinicians = [UserFactory(role="clinician", username=f"race_dr_{i}") for i in range(writers)]
    for clinician in clinicians:
        for day in range(7):
            ClinicianHours.objects.create(clinician=clinician, weekday=day, start=dt.time(7), end=dt.time(20))

    checked = svc._check_resources

    def check_then_pause(**kwargs):
        checked(**kwargs)
        time.sleep(PAUSE_AFTER_CHECK)

    svc._check_resources = check_then_pause
    for round_number, mode in enumerate(modes):
        start = START + dt.timedelta(hours=round_number)  # each round has the rooms and clinicians free
        settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] = None if mode == "DEFERRED" else mode
        connections.close_all()
        patient = PatientFactory()
        barrier = threading.Barrier(writers)
        outcomes = [None] * writers

        def book(index):
            try:
                barrier.wait(timeout=30)
                slot = svc.Slot(kind="consultation", start=start, room=rooms[index], clinician=clinicians[index])
                svc.appointment_book(patient=patient, slot=slot, by=desk, now=BOOKED_AT)
                outcomes[index] = "booked"
            except svc.BookingError as exc:
                outcomes[index] = exc.message
            except Exception as exc:  # noqa: BLE001 - reported to the test
                outcomes[index] = f"{type(exc).__name__}: {exc}"
            finally:
                connection.close()

        threads = [threading.Thread(target=book, args=(i,)) for i in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        booked = patient.appointments.count()
        print(json.dumps({"mode": mode, "outcomes": outcomes, "appointments": booked}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
