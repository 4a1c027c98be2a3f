"""Pure rules for the outcomes and product-safety registry: no ORM, plain values in and out.

Response and relapse (§2, §9: S13, S16, S20, S78), confidence intervals for the clinic's own rates, lot safety
signals (§6: S58, S59, S60), the serious-AE reporting clock (MoCRA: S58) and the maintenance flag after a
course (§9: S16, S78). Every number the domain reference leaves open is a field of OutcomeConfig, which the
project builds from settings (plans/config.py: outcome_config)."""

__all__ = [
    "OutcomeConfig", "DEFAULT_OUTCOME_CONFIG", "Proportion", "wilson_interval", "proportion", "change_from_baseline",
    "responder_by_change", "is_responder", "is_relapse", "maintenance_due", "quartiles", "median", "GroupOutcome",
    "group_outcome", "followup_month_for", "LotSignal", "event_rate", "lot_signal", "SERIOUSNESS_CRITERIA",
    "INJECTING_DELIVERIES", "delivery_needs_confirmation", "is_business_day", "add_business_days",
    "business_days_between", "report_due_on", "report_is_overdue",
]

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .base import add_months
from .scores import percent_change as _percent_change

# =============================================================================
# CONFIGURATION
# =============================================================================


@dataclass(frozen=True)
class OutcomeConfig:
    # Responder: mMASI down by at least this % from baseline. 50 % is the usual trial cut-off (S13, S20) [U].
    responder_reduction_percent: Decimal = Decimal("50")
    # Relapse after response: a follow-up mMASI back to at least this % of baseline (S16: relapse shows between
    # 1 and 3 months; S78: expect relapse while triggers continue) [U].
    relapse_percent_of_baseline: Decimal = Decimal("50")
    # Groups smaller than this show counts but no rate (a rate on 3 courses misleads and may identify).
    min_group_size: int = 5
    # A follow-up assessment counts as the k-month follow-up when taken within this many days of the date
    # k calendar months after the last session (S16 follow-ups at 1, 3 and 6 months).
    followup_tolerance_days: int = 21
    followup_months: tuple[int, ...] = (1, 3, 6)  # S16
    # MoCRA: serious AEs reported within 15 business days of the clinic learning of them (S58) [U: the law
    # that applies where the clinic is].
    ae_report_business_days: int = 15
    holidays: frozenset[date] = field(default_factory=frozenset)
    # Two-sided 95 % (normal quantile).
    confidence_z: float = 1.959963984540054


DEFAULT_OUTCOME_CONFIG = OutcomeConfig()

ERR_COUNTS = "Counts must be whole numbers with 0 ≤ successes ≤ n, got {successes!r} of {n!r}."

# =============================================================================
# PROPORTIONS AND THEIR 95 % CONFIDENCE INTERVALS
# =============================================================================


@dataclass(frozen=True)
class Proportion:
    successes: int
    n: int
    rate: float | None  # None when n is 0
    low: float | None
    high: float | None

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else self.rate * 100

    def __str__(self) -> str:
        """"40 % (24–58 %)", or "—" without courses."""
        if self.rate is None:
            return "—"
        return f"{self.rate * 100:.0f} % ({self.low * 100:.0f}–{self.high * 100:.0f} %)"


def wilson_interval(successes: int, n: int, z: float = DEFAULT_OUTCOME_CONFIG.confidence_z) -> tuple[float, float] | None:
    """Wilson score interval for a binomial proportion; None for n = 0. Unlike the normal approximation it
    stays inside [0, 1] and is usable for small groups and rates of 0 or 1, which a clinic's own data has."""
    if not (isinstance(successes, int) and isinstance(n, int)) or n < 0 or not 0 <= successes <= n:
        raise ValueError(ERR_COUNTS.format(successes=successes, n=n))
    if n == 0:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # Clamp float noise at the edges (0 successes gives exactly 0 in exact arithmetic).
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion(successes: int, n: int, z: float = DEFAULT_OUTCOME_CONFIG.confidence_z) -> Proportion:
    interval = wilson_interval(successes, n, z)
    if interval is None:
        return Proportion(successes, n, None, None, None)
    return Proportion(successes, n, successes / n, interval[0], interval[1])


# =============================================================================
# RESPONSE, RELAPSE, DISTRIBUTIONS
# =============================================================================


def _dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def change_from_baseline(baseline, current) -> Decimal | None:
    """plans.rules.percent_change (S13, S20), and None when either score is missing."""
    if baseline is None or current is None:
        return None
    return _percent_change(baseline, current)


def responder_by_change(change, cfg: OutcomeConfig = DEFAULT_OUTCOME_CONFIG) -> bool | None:
    """A % change from baseline (negative = better) that is at least responder_reduction_percent down."""
    if change is None:
        return None
    return -_dec(change) >= cfg.responder_reduction_percent


def is_responder(baseline, current, cfg: OutcomeConfig = DEFAULT_OUTCOME_CONFIG) -> bool | None:
    """≥ responder_reduction_percent fewer mMASI points than baseline (exactly 50 % counts); None when it
    cannot be told (no baseline, baseline 0, no score)."""
    return responder_by_change(change_from_baseline(baseline, current), cfg)


def is_relapse(baseline, end, followup, cfg: OutcomeConfig = DEFAULT_OUTCOME_CONFIG) -> bool | None:
    """Among courses that responded at the end: a follow-up back to ≥ relapse_percent_of_baseline % of
    baseline (S16, S78). None when the course did not respond at the end or there is no follow-up score."""
    if is_responder(baseline, end, cfg) is not True or followup is None:
        return None
    return _dec(followup) * 100 >= _dec(baseline) * cfg.relapse_percent_of_baseline


def maintenance_due(baseline, end, followup, *, min_meaningful_points, cfg: OutcomeConfig = DEFAULT_OUTCOME_CONFIG) -> bool:
    """Flag for a maintenance discussion after the course (§9, S16, S78): the follow-up mMASI has risen past
    the relapse threshold (≥ relapse_percent_of_baseline % of baseline) and by more than rater noise over the
    end-of-course value (S5: a change of min_meaningful_points or less is noise)."""
    if baseline is None or end is None or followup is None or _dec(baseline) <= 0:
        return False
    risen = _dec(followup) - _dec(end) > _dec(min_meaningful_points)
    past_threshold = _dec(followup) * 100 >= _dec(baseline) * cfg.relapse_percent_of_baseline
    return risen and past_threshold


def quartiles(values: Iterable) -> tuple[float, float, float] | None:
    """(Q1, median, Q3) by linear interpolation between order statistics (the usual "type 7"); None if empty."""
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return None

    def at(fraction: float) -> float:
        position = fraction * (len(ordered) - 1)
        lower = math.floor(position)
        upper = min(lower + 1, len(ordered) - 1)
        return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)

    return at(0.25), at(0.5), at(0.75)


def median(values: Iterable) -> float | None:
    result = quartiles(values)
    return None if result is None else result[1]


@dataclass(frozen=True)
class GroupOutcome:
    """One row of the outcomes table: a group of courses at one time point."""

    courses: int  # courses in the group with a baseline
    scored: int  # of those, with a score at the time point
    responders: int
    responder_rate: Proportion | None  # None when the group is under the minimum size
    median_change: float | None
    suppressed: bool


def group_outcome(changes: Sequence, courses: int, cfg: OutcomeConfig = DEFAULT_OUTCOME_CONFIG) -> GroupOutcome:
    """changes: each course's % change from baseline at the time point (None: not scored there). Groups with
    fewer scored courses than min_group_size show counts only (no rate, no interval, no median)."""
    usable = [change for change in changes if change is not None]
    responders = sum(1 for change in usable if responder_by_change(change, cfg))
    if len(usable) < cfg.min_group_size:
        return GroupOutcome(courses, len(usable), responders, None, None, True)
    return GroupOutcome(
        courses, len(usable), responders, proportion(responders, len(usable), cfg.confidence_z),
        median(usable), False,
    )


def followup_month_for(
    last_session: date | None, taken_on: date, cfg: OutcomeConfig = DEFAULT_OUTCOME_CONFIG,
    months: Sequence[int] | None = None,
) -> int | None:
    """Which follow-up (1, 3 or 6 months after the last session, S16) an assessment taken on taken_on is:
    the nearest one within followup_tolerance_days (both edges inside), else None."""
    if last_session is None or taken_on <= last_session:
        return None
    best = None
    for month in (cfg.followup_months if months is None else months):
        distance = abs((taken_on - add_months(last_session, month)).days)
        if distance <= cfg.followup_tolerance_days and (best is None or distance < best[0]):
            best = (distance, month)
    return None if best is None else best[1]


# =============================================================================
# LOT SAFETY SIGNAL (§6: S58, S59, S60)
# =============================================================================


@dataclass(frozen=True)
class LotSignal:
    flagged: bool
    reasons: tuple[str, ...]
    lot_rate: Proportion
    others_rate: float | None


SIGNAL_RATE = "AE rate's lower 95 % bound ({low:.1%}) is above the product's other lots ({others:.1%})"
SIGNAL_SERIOUS = "{count} serious event(s)"


def event_rate(events: int, sessions: int, z: float = DEFAULT_OUTCOME_CONFIG.confidence_z) -> Proportion:
    """Adverse events ÷ sessions that used the lot. Two events at one session count once each, so the count
    is capped at the sessions for the interval (a rate above 100 % has no binomial interval)."""
    return proportion(min(events, sessions), sessions, z)


def lot_signal(
    *, events: int, sessions: int, serious_events: int, other_events: int, other_sessions: int,
    cfg: OutcomeConfig = DEFAULT_OUTCOME_CONFIG,
) -> LotSignal:
    """Batches vary and are not standardised (S59, S60), so a lot is flagged when its AE rate's lower
    confidence bound exceeds the rate of the product's other lots, or when it has any serious event (S58).
    Without other lots used there is nothing to compare with: only serious events flag it."""
    rate = event_rate(events, sessions, cfg.confidence_z)
    others = None if other_sessions == 0 else min(other_events, other_sessions) / other_sessions
    reasons = []
    if others is not None and rate.low is not None and rate.low > others:
        reasons.append(SIGNAL_RATE.format(low=rate.low, others=others))
    if serious_events > 0:
        reasons.append(SIGNAL_SERIOUS.format(count=serious_events))
    return LotSignal(bool(reasons), tuple(reasons), rate, others)


# =============================================================================
# SERIOUS AE REPORTING CLOCK (MoCRA, S58)
# =============================================================================


# Seriousness criteria: drug/trial standard (S75, 21 CFR 312.32) plus the cosmetics law's additions (S58).
SERIOUSNESS_CRITERIA = [
    ("death", "Death"),
    ("life_threatening", "Life-threatening"),
    ("hospitalisation", "Inpatient hospitalisation or a longer stay"),
    ("disability", "Persistent or significant disability"),
    ("congenital_anomaly", "Congenital anomaly"),
    ("important_medical_event", "Important medical event needing intervention to prevent one of the above"),
    ("infection", "Infection (cosmetics, S58)"),
    ("significant_disfigurement", "Significant disfigurement: serious or persistent rash, 2nd/3rd-degree burn, "
                                  "persistent change in appearance (cosmetics, S58)"),
]


# Deliveries that put the product into the skin rather than on it. Exosomes are for topical use on the treated
# skin (S14, S62, S64); injection outside an approved trial is not permitted (S56, S57).
INJECTING_DELIVERIES = frozenset({"intradermal_injection", "mesotherapy_injector"})
TOPICAL_ONLY = "topical_only"


def delivery_needs_confirmation(route_labelled: str, delivery: str) -> bool:
    """A product labelled topical only, delivered by a method that injects it."""
    return route_labelled == TOPICAL_ONLY and delivery in INJECTING_DELIVERIES


def is_business_day(day: date, holidays: frozenset[date] | set[date] = frozenset()) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: date, days: int, holidays: frozenset[date] | set[date] = frozenset()) -> date:
    """The days-th business day after start (start itself is day 0, whatever day it is)."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    current, counted = start, 0
    while counted < days:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            counted += 1
    return current


def business_days_between(start: date, end: date, holidays: frozenset[date] | set[date] = frozenset()) -> int:
    """Business days after start up to and including end (0 when end ≤ start)."""
    count, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            count += 1
    return count


def report_due_on(learned_on: date, cfg: OutcomeConfig = DEFAULT_OUTCOME_CONFIG) -> date:
    """Serious AE report due ae_report_business_days business days after the clinic learned of it (S58)."""
    return add_business_days(learned_on, cfg.ae_report_business_days, cfg.holidays)


def report_is_overdue(due_on: date | None, today: date, reported: bool) -> bool:
    """Overdue from the day after the due date until it is reported; the due date itself is in time."""
    return due_on is not None and not reported and today > due_on
