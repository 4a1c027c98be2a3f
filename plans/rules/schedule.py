"""Course size, session windows, follow-ups and late cancellations (domain reference §2.4, §9)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from .base import DEFAULT_CONFIG, RuleConfig, _is_whole, add_months


COURSE_SESSIONS_USUAL = (3, 4)  # 3–4 sessions (S13, S16, S63)
COURSE_SESSIONS_ALLOWED = (1, 6)  # up to 6 seen in published protocols (S14)
INTERVAL_DAYS_PUBLISHED = (14, 56)  # 2–3 to 8 weeks (§2.4)

ERR_COURSE_SIZE = "A course has 1 to 6 sessions."
WARN_COURSE_SIZE = "Usual courses have 3–4 sessions; confirm this number."
WARN_INTERVAL = "Published intervals are 2 to 8 weeks apart; confirm this interval."
ERR_SESSION_NUMBER = "Session number {number} is outside 1–{sessions}."
ERR_INTERVAL = "The interval must be at least 1 day."


@dataclass(frozen=True)
class Window:
    number: int
    target: date
    earliest: date
    latest: date


def window_around(number: int, target: date, cfg: RuleConfig = DEFAULT_CONFIG) -> Window:
    """The allowed window around a target date, for sessions and follow-ups alike (§9; RULE_WINDOW_*)."""
    return Window(
        number=number,
        target=target,
        earliest=target - timedelta(days=cfg.window_before_days),
        latest=target + timedelta(days=cfg.window_after_days),
    )


def plan_rule_config(
    cfg: RuleConfig,
    *,
    window_before_days: int,
    window_after_days: int,
    followup_months: Sequence[int] | None = None,
) -> RuleConfig:
    """The clinic's config with one plan's own window and follow-up months, which win over the defaults.

    A plan with no follow-up months has none (the clinician cleared them); None keeps the clinic default.
    """
    changes: dict[str, object] = {"window_before_days": window_before_days, "window_after_days": window_after_days}
    if followup_months is not None:
        changes["followup_months"] = tuple(followup_months)
    return replace(cfg, **changes)


@dataclass(frozen=True)
class CourseSchedule:
    windows: list[Window]
    last_session_on: date  # performed, else booked, else target date of the last session
    followups: list[date]  # cfg.followup_months after last_session_on (S16)


def course_schedule(
    start: date,
    sessions: int,
    interval_days: int,
    performed: Mapping[int, date] | None = None,
    booked: Mapping[int, date] | None = None,
    cfg: RuleConfig = DEFAULT_CONFIG,
) -> CourseSchedule:
    """Every session's window and the follow-up dates, as every page and service must see them."""
    performed, booked = performed or {}, booked or {}
    windows = session_windows(start, sessions, interval_days, performed, booked, cfg)
    last = windows[-1]
    last_on = performed.get(last.number) or booked.get(last.number) or last.target
    return CourseSchedule(windows=windows, last_session_on=last_on, followups=followup_dates(last_on, cfg=cfg))


def session_windows(
    start: date,
    sessions: int,
    interval_days: int,
    performed: Mapping[int, date] | None = None,
    booked: Mapping[int, date] | None = None,
    cfg: RuleConfig = DEFAULT_CONFIG,
) -> list[Window]:
    """Target and allowed window per session; each target follows the previous session's actual date.

    A late session pushes every later target, so spacing (which drives healing, S13, S16) holds.
    Actual = performed date, else booked date, else the target.
    """
    performed = performed or {}
    booked = booked or {}
    if sessions < 1:
        raise ValueError(ERR_COURSE_SIZE)
    if interval_days < 1:
        raise ValueError(ERR_INTERVAL)
    for number in (*performed, *booked):
        if not 1 <= number <= sessions:
            raise ValueError(ERR_SESSION_NUMBER.format(number=number, sessions=sessions))

    windows = []
    target = start
    for number in range(1, sessions + 1):
        windows.append(window_around(number, target, cfg))
        actual = performed.get(number) or booked.get(number) or target
        target = actual + timedelta(days=interval_days)
    return windows


def outside_window(window: Window, when: date) -> bool:
    """Both window edges are inside."""
    return not window.earliest <= when <= window.latest


# --- Session sequence and reschedule cascade (issue 12; moved from plans/rules.py section 6b) ----------------
# Sessions are performed in order (§9: a course of 3–4 sessions about 4 weeks apart, S13, S16, S63) inside the
# window around their target (RULE_WINDOW_* settings); a later session's window follows the actual date of the
# session before it (session_windows), so moving one booking moves the later windows with it.

SESSION_COMPLETED = "completed"
SESSION_SKIPPED = "skipped"
SESSION_CANCELLED = "cancelled"
# An earlier session in one of these states no longer stands in the way of the next one (S13, S16).
SESSION_CLOSED_STATES = frozenset({SESSION_COMPLETED, SESSION_SKIPPED, SESSION_CANCELLED})

ERR_RECORD_OUT_OF_ORDER = (
    "Session {earlier} is not recorded yet: record it first, or skip it with a reason, before recording "
    "session {number}."
)
ERR_OUTSIDE_WINDOW_REASON = (
    "{day:%a %d %b %Y} is outside session {number}'s window ({earliest:%d %b} to {latest:%d %b %Y}): "
    "give the reason for treating on this day."
)


def record_order_error(number: int, earlier_states: Mapping[int, str]) -> str | None:
    """Why session ``number`` may not be recorded yet, or None.

    Every earlier session must be recorded, or skipped or cancelled with a reason: spacing between
    treatments drives healing and response (S13, S16), so a session is never recorded ahead of one that
    is still to come. ``earlier_states`` maps each earlier session number to its status; a number missing
    from it counts as not done.
    """
    if number < 1:
        raise ValueError(ERR_SESSION_NUMBER.format(number=number, sessions="n"))
    for earlier in range(1, number):
        if earlier_states.get(earlier) not in SESSION_CLOSED_STATES:
            return ERR_RECORD_OUT_OF_ORDER.format(earlier=earlier, number=number)
    return None


def outside_window_reason_error(window: Window, day: date, reason: str) -> str | None:
    """Recording outside the window needs a written reason (§9 spacing; RULE_WINDOW_* settings); inside the
    window (both edges included) nothing extra is asked."""
    if not outside_window(window, day) or reason.strip():
        return None
    return ERR_OUTSIDE_WINDOW_REASON.format(
        day=day, number=window.number, earliest=window.earliest, latest=window.latest
    )


def later_bookings_outside(windows: Sequence[Window], booked: Mapping[int, date], after: int) -> list[int]:
    """Numbers of sessions after ``after`` whose booked day now falls outside their (recomputed) window."""
    by_number = {window.number: window for window in windows}
    return sorted(
        number for number, day in booked.items()
        if number > after and number in by_number and outside_window(by_number[number], day)
    )


def nearest_free_start(
    preferred: datetime, window: Window, free_starts: Iterable[tuple[date, datetime]]
) -> datetime | None:
    """The free start closest in time to ``preferred`` whose clinic day lies inside the window; on a tie the
    earlier one (the course keeps its rhythm, S13, S16). ``free_starts`` are (clinic day, start) pairs so the
    caller's time zone decides the day. None when the window has no free start."""
    best = None
    for day, start in free_starts:
        if outside_window(window, day):
            continue
        key = (abs(start.timestamp() - preferred.timestamp()), start.timestamp())  # real time, across clock changes
        if best is None or key < best[0]:
            best = (key, start)
    return best[1] if best else None


def followup_dates(
    last_session: date, months: Sequence[int] | None = None, cfg: RuleConfig = DEFAULT_CONFIG
) -> list[date]:
    """Follow-ups in calendar months after the last session (S16), day clamped to month end."""
    return [add_months(last_session, m) for m in (cfg.followup_months if months is None else months)]


def is_late_cancellation(start: datetime, cancelled_at: datetime, cfg: RuleConfig = DEFAULT_CONFIG) -> bool:
    """Less than late_cancel_hours before start is late; exactly on the limit is not."""
    return start - cancelled_at < timedelta(hours=cfg.late_cancel_hours)


def course_size_warning(sessions: int) -> str | None:
    """None for 3–4 sessions, a warning for 1–2 or 5–6; raises ValueError outside 1–6."""
    if not _is_whole(sessions) or not COURSE_SESSIONS_ALLOWED[0] <= sessions <= COURSE_SESSIONS_ALLOWED[1]:
        raise ValueError(ERR_COURSE_SIZE)
    if COURSE_SESSIONS_USUAL[0] <= sessions <= COURSE_SESSIONS_USUAL[1]:
        return None
    return WARN_COURSE_SIZE


def interval_warning(interval_days: int) -> str | None:
    """A warning outside the published 2–8 week spacing (§2.4); 4 weeks is the default."""
    if interval_days < 1:
        raise ValueError(ERR_INTERVAL)
    if INTERVAL_DAYS_PUBLISHED[0] <= interval_days <= INTERVAL_DAYS_PUBLISHED[1]:
        return None
    return WARN_INTERVAL
