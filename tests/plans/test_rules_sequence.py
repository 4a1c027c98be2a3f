"""Pure rules of the session sequence and the reschedule cascade (issue 12): order, window reason, later
bookings outside their new windows, nearest free slot. No database, no clock."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from plans import rules

D = dt.date.fromisoformat
LONDON = ZoneInfo("Europe/London")


def window(target: str, number: int = 1, before: int = 3, after: int = 7) -> rules.Window:
    day = D(target)
    return rules.Window(number, day, day - dt.timedelta(days=before), day + dt.timedelta(days=after))


@pytest.mark.parametrize(
    "number, earlier, blocking",
    [
        (1, {}, None),
        (2, {1: "completed"}, None),
        (2, {1: "planned"}, 1),
        (2, {1: "blocked"}, 1),
        (2, {1: "missed"}, 1),
        (2, {1: "skipped"}, None),
        (2, {1: "cancelled"}, None),
        (3, {1: "completed"}, 2),  # session 2 missing from the map counts as not done
        (3, {1: "completed", 2: "planned"}, 2),
        (3, {1: "planned", 2: "skipped"}, 1),  # skipping 2 does not excuse 1
        (4, {1: "completed", 2: "skipped", 3: "completed"}, None),
    ],
)
def test_sessions_are_recorded_in_order(number, earlier, blocking):
    error = rules.record_order_error(number, earlier)
    if blocking is None:
        assert error is None
    else:
        assert error == rules.ERR_RECORD_OUT_OF_ORDER.format(earlier=blocking, number=number)


@pytest.mark.parametrize(
    "target, day, needs_reason",
    [
        ("2030-03-04", "2030-03-01", False),  # at the earliest edge
        ("2030-03-04", "2030-02-28", True),  # a day before it (across the end of February)
        ("2030-03-04", "2030-03-11", False),  # at the latest edge
        ("2030-03-04", "2030-03-12", True),  # a day after it
        ("2030-01-31", "2030-02-07", False),  # month end: the window runs into February
        ("2030-01-31", "2030-02-08", True),
        ("2030-03-24", "2030-03-31", False),  # the night the clocks go forward (Europe/London)
        ("2030-03-24", "2030-04-01", True),
    ],
)
def test_recording_outside_the_window_needs_a_reason(target, day, needs_reason):
    w = window(target, number=2)
    error = rules.outside_window_reason_error(w, D(day), "")
    assert (error is not None) is needs_reason
    assert rules.outside_window_reason_error(w, D(day), "Patient away for three weeks") is None
    assert (rules.outside_window_reason_error(w, D(day), "   ") is not None) is needs_reason
    if needs_reason:
        assert "session 2's window" in error


def test_later_bookings_outside_their_new_windows():
    # Session 2 performed a week late: session 3's target moves a week, its old booking is now early.
    windows = rules.session_windows(D("2030-01-07"), 4, 28, performed={1: D("2030-01-07"), 2: D("2030-02-11")})
    booked = {3: D("2030-03-04"), 4: D("2030-04-01"), 1: D("2029-12-01")}
    assert [w.target for w in windows[2:]] == [D("2030-03-11"), D("2030-04-08")]
    # 4 Mar is before 8–18 Mar; 1 Apr is before 5–15 Apr; session 1 is not after session 2.
    assert rules.later_bookings_outside(windows, booked, after=2) == [3, 4]
    assert rules.later_bookings_outside(windows, {4: D("2030-04-05")}, after=2) == []  # at the earliest edge


def _at(day: str, time: str) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time.fromisoformat(time), tzinfo=LONDON)


def test_nearest_free_start_inside_the_window_earlier_wins_a_tie():
    w = window("2030-03-11", number=3)
    preferred = _at("2030-03-11", "10:00")
    free = [(D(d), _at(d, t)) for d, t in [
        ("2030-03-07", "10:00"),  # before the window
        ("2030-03-11", "09:00"),  # an hour early
        ("2030-03-11", "11:00"),  # an hour late: same distance, the earlier wins
        ("2030-03-19", "10:00"),  # after the window
    ]]
    assert rules.nearest_free_start(preferred, w, free) == _at("2030-03-11", "09:00")
    assert rules.nearest_free_start(preferred, w, free[:1] + free[3:]) is None


def test_nearest_free_start_counts_real_hours_across_the_clock_change():
    # Clocks go forward at 01:00 on 31 March 2030: 30 Mar 10:00 → 31 Mar 10:00 is 23 real hours.
    w = window("2030-03-30", number=2)
    preferred = _at("2030-03-30", "10:00")
    earlier, later = _at("2030-03-29", "10:00"), _at("2030-03-31", "10:00")
    assert later.astimezone(dt.UTC) - preferred.astimezone(dt.UTC) == dt.timedelta(hours=23)
    assert rules.nearest_free_start(preferred, w, [(D("2030-03-29"), earlier), (D("2030-03-31"), later)]) == later
