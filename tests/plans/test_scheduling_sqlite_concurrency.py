"""The demo's SQLite: two tabs booking the same patient at once wait for each other (BEGIN IMMEDIATE, settings'
transaction_mode) and the second gets the clear "already booked" message, never "database is locked".

The suite's own SQLite database is in memory (shared cache, whose table locks never wait), so the race runs in a
subprocess against a SQLite file with the project's settings (tests/plans/sqlite_booking_race.py). It needs no
test database and runs whichever database the suite uses.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from plans.services import scheduling as svc

SCRIPT = Path(__file__).with_name("sqlite_booking_race.py")
WRITERS = 4


def _race(tmp_path, *modes) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "clinic.settings_test",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(WRITERS), *modes], env=env, capture_output=True, text=True, timeout=300,
        cwd=SCRIPT.parents[2],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {line["mode"]: line for line in lines}


def test_concurrent_sqlite_bookings_of_one_patient_wait_their_turn_and_one_wins(tmp_path):
    races = _race(tmp_path, "IMMEDIATE", "DEFERRED")

    immediate = races["IMMEDIATE"]
    assert immediate["appointments"] == 1
    assert immediate["outcomes"].count("booked") == 1, immediate
    assert immediate["outcomes"].count(svc.ERR_PATIENT_BUSY) == WRITERS - 1, immediate

    # The setting is what does it: with SQLite's default (DEFERRED) transactions the same race fails with
    # "database is locked" -- the 500 the desk saw.
    deferred = races["DEFERRED"]
    assert any("database is locked" in str(outcome) for outcome in deferred["outcomes"]), deferred
    assert deferred["appointments"] <= 1
