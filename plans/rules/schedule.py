"""Course size, session windows, follow-ups and late cancellations (domain reference §2.4, §9)."""

from collections.abc import Mapping, Sequence
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
