"""Run the whole test session under a moved wall clock: ``pytest --clock=2026-11-30T23:50`` (or the
environment variable ``CLINIC_TEST_CLOCK``).

The instant is read in the clinic's time zone (Europe/London) when it carries no offset, and the clock ticks on
from there (time-machine, ``tick=True``), so threads, timeouts and ``time.monotonic`` behave as usual. CI runs
the suite once like this at a late-evening, month-end instant: a test that only passes at office hours fails
there. Tests that need a particular time still freeze it themselves; time-machine nests.
"""

import datetime as dt
import os
from zoneinfo import ZoneInfo

import time_machine

CLINIC_ZONE = ZoneInfo("Europe/London")
_traveller = None


def pytest_addoption(parser):
    parser.addoption(
        "--clock", default=os.environ.get("CLINIC_TEST_CLOCK") or None, metavar="ISO-DATETIME",
        help="move Python's wall clock to this instant (Europe/London when naive) for the whole session, ticking on",
    )


def clock_instant(value: str) -> dt.datetime:
    instant = dt.datetime.fromisoformat(value)
    return instant if instant.tzinfo else instant.replace(tzinfo=CLINIC_ZONE)


def pytest_configure(config):
    global _traveller
    value = config.getoption("--clock")
    if value and _traveller is None:
        _traveller = time_machine.travel(clock_instant(value), tick=True)
        _traveller.start()


def pytest_unconfigure(config):
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None


def pytest_report_header(config):
    value = config.getoption("--clock")
    if value:
        return f"clock: moved to {clock_instant(value).isoformat()}, ticking"


def clinic_time(day: str, time: str = "10:00") -> dt.datetime:
    """An aware instant in the clinic's time zone, for tests that freeze the clock at a chosen moment."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(time), tzinfo=CLINIC_ZONE)
