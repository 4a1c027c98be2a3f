"""Outcomes, lot-signal and reporting-clock rules on hand-built numbers with known answers (no database)."""

from datetime import date
from decimal import Decimal

import pytest

from plans.rules import outcomes as r

CFG = r.OutcomeConfig()


# --- Wilson score interval: Newcombe 1998 (81/263 → 0.2553–0.3662) and closed forms at the edges ---------------

@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe's worked example
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),  # z²/(n+z²)
        (10, 10, 0.7225, 1.0),
        (1, 1, 0.2065, 1.0),
        (0, 1, 0.0, 0.7935),
    ],
)
def test_wilson_interval_known_answers(successes, n, low, high):
    got_low, got_high = r.wilson_interval(successes, n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_of_an_empty_group_is_none():
    assert r.wilson_interval(0, 0) is None
    assert r.proportion(0, 0).rate is None
    assert str(r.proportion(0, 0)) == "—"


@pytest.mark.parametrize(("successes", "n"), [(3, 2), (-1, 4), (1, -1), (1.5, 3)])
def test_wilson_interval_refuses_impossible_counts(successes, n):
    with pytest.raises(ValueError):
        r.wilson_interval(successes, n)


def test_proportion_prints_rate_and_interval():
    assert str(r.proportion(5, 10)) == "50 % (24–76 %)"


# --- responder and relapse ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("baseline", "score", "expected"),
    [
        ("10.0", "5.0", True),  # exactly 50 % down: responder
        ("10.0", "5.1", False),  # just short
        ("10.0", "4.9", True),
        ("10.0", "12.0", False),  # worse
        ("0.0", "0.0", None),  # no usable baseline
        (None, "3.0", None),
        ("10.0", None, None),
    ],
)
def test_responder_boundaries(baseline, score, expected):
    to_dec = lambda v: None if v is None else Decimal(v)  # noqa: E731
    assert r.is_responder(to_dec(baseline), to_dec(score)) is expected


def test_responder_threshold_is_a_setting():
    assert r.is_responder(Decimal("10"), Decimal("6"), r.OutcomeConfig(responder_reduction_percent=Decimal("40")))
    assert not r.is_responder(Decimal("10"), Decimal("6"))


@pytest.mark.parametrize(
    ("baseline", "end", "followup", "expected"),
    [
        ("10", "4", "5.0", True),  # back to exactly 50 % of baseline: relapse
        ("10", "4", "4.9", False),
        ("10", "4", None, None),  # no follow-up
        ("10", "6", "9", None),  # not a responder at the end: not counted
    ],
)
def test_relapse_only_among_responders(baseline, end, followup, expected):
    assert r.is_relapse(Decimal(baseline), Decimal(end), None if followup is None else Decimal(followup)) is expected


@pytest.mark.parametrize(
    ("end", "followup", "expected"),
    [
        ("4.0", "5.0", False),  # past 50 % of baseline but a rise of exactly 1 point is rater noise (S5)
        ("4.0", "5.1", True),
        ("2.0", "4.9", False),  # risen but under the threshold
        ("6.0", "7.5", True),  # a non-responder getting worse beyond noise
    ],
)
def test_maintenance_flag(end, followup, expected):
    assert r.maintenance_due(Decimal("10"), Decimal(end), Decimal(followup), min_meaningful_points=Decimal("1.0")) is expected


def test_quartiles_and_median_known_answers():
    assert r.quartiles([1, 2, 3, 4]) == (1.75, 2.5, 3.25)
    assert r.quartiles([5]) == (5.0, 5.0, 5.0)
    assert r.quartiles([]) is None
    assert r.median([-80, -50, -20]) == -50


def test_group_outcome_small_group_shows_counts_but_no_rate():
    changes = [Decimal("-60")] * 3 + [Decimal("-20"), None]
    outcome = r.group_outcome(changes, courses=6)
    assert (outcome.courses, outcome.scored, outcome.responders, outcome.suppressed) == (6, 4, 3, True)
    assert outcome.responder_rate is None and outcome.median_change is None


def test_group_outcome_at_minimum_size_shows_rate_and_median():
    changes = [r.change_from_baseline(Decimal("10"), Decimal(v)) for v in ("2", "4", "5", "8", "11")]
    outcome = r.group_outcome(changes, courses=5)
    assert not outcome.suppressed
    assert (outcome.responders, outcome.scored) == (3, 5)
    assert outcome.responder_rate.low == pytest.approx(0.2307, abs=5e-4)
    assert outcome.median_change == -50.0


def test_group_outcome_empty():
    outcome = r.group_outcome([], courses=0)
    assert outcome.suppressed and outcome.scored == 0


# --- which follow-up an assessment is ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("taken_on", "expected"),
    [
        (date(2026, 2, 28), 1),  # 31 Jan + 1 month clamps to 28 Feb
        (date(2026, 3, 21), 1),  # 21 days after: inside
        (date(2026, 3, 22), None),  # 22 days: outside
        (date(2026, 4, 30), 3),
        (date(2026, 7, 31), 6),
        (date(2026, 1, 31), None),  # the day of the last session is not a follow-up
    ],
)
def test_followup_month_for(taken_on, expected):
    assert r.followup_month_for(date(2026, 1, 31), taken_on) == expected


# --- lot signal ------------------------------------------------------------------------------------------------------

def test_lot_signal_when_lower_bound_exceeds_other_lots():
    # 6/20 = 30 %, Wilson low 14.5 % > 2/100 = 2 %.
    signal = r.lot_signal(events=6, sessions=20, serious_events=0, other_events=2, other_sessions=100)
    assert signal.flagged and "lower 95 % bound" in signal.reasons[0]


def test_no_signal_when_interval_overlaps_other_lots():
    # 1/10: Wilson low 1.8 % < 2 %.
    signal = r.lot_signal(events=1, sessions=10, serious_events=0, other_events=2, other_sessions=100)
    assert not signal.flagged


def test_any_serious_event_flags_even_a_lone_lot():
    signal = r.lot_signal(events=1, sessions=3, serious_events=1, other_events=0, other_sessions=0)
    assert signal.flagged and signal.others_rate is None


def test_unused_lot_has_no_rate_and_no_signal():
    signal = r.lot_signal(events=0, sessions=0, serious_events=0, other_events=3, other_sessions=30)
    assert not signal.flagged and signal.lot_rate.rate is None


def test_more_events_than_sessions_caps_the_rate():
    assert r.event_rate(3, 2).rate == 1.0


# --- reporting clock (S58): business days across weekends and bank holidays ------------------------------------

UK_CHRISTMAS = frozenset({date(2026, 12, 25), date(2026, 12, 28)})  # Fri 25 Dec, Mon 28 Dec (Boxing Day sub)


@pytest.mark.parametrize(
    ("learned_on", "holidays", "due"),
    [
        (date(2026, 11, 2), frozenset(), date(2026, 11, 23)),  # Monday + 15 business days = Monday 3 weeks on
        (date(2026, 11, 6), frozenset(), date(2026, 11, 27)),  # Friday
        (date(2026, 11, 7), frozenset(), date(2026, 11, 27)),  # Saturday: counting starts Monday
        (date(2026, 11, 8), frozenset(), date(2026, 11, 27)),  # Sunday
        (date(2026, 12, 14), UK_CHRISTMAS, date(2027, 1, 6)),  # two holidays add two days
        (date(2026, 12, 14), frozenset(), date(2027, 1, 4)),
    ],
)
def test_report_due_on(learned_on, holidays, due):
    assert r.report_due_on(learned_on, r.OutcomeConfig(holidays=holidays)) == due


def test_business_days_between_matches_the_due_date():
    due = r.report_due_on(date(2026, 12, 14), r.OutcomeConfig(holidays=UK_CHRISTMAS))
    assert r.business_days_between(date(2026, 12, 14), due, UK_CHRISTMAS) == 15


@pytest.mark.parametrize(
    ("today", "reported", "overdue"),
    [(date(2026, 11, 23), False, False), (date(2026, 11, 24), False, True), (date(2026, 11, 24), True, False)],
)
def test_report_overdue_boundaries(today, reported, overdue):
    assert r.report_is_overdue(date(2026, 11, 23), today, reported) is overdue
