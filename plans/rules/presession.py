"""Before a session: the day-of check, booking holds and the steps a reminder gives the patient
(domain reference §3, §4, §9)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .base import AGENT_LABELS, DEFAULT_CONFIG, AdjunctSpec, RuleConfig, _check_modality, effective_pause_days


PRE_PREGNANT = "Patient may be pregnant: do not treat (defer energy-device treatment)."
PRE_NEW_MEDICINES = (
    "New medicines reported: update the screening (photosensitisers, anticoagulants, isotretinoin) before treating."
)
PRE_RECENT_SUN = "Recent sun exposure or tan: reschedule 1–2 weeks later."
PRE_ACTIVE_LESION = "Active infection or lesion: do not treat until fully healed."
PRE_PAUSES_NOT_KEPT = "Topical pauses were not kept: reschedule once they have been stopped long enough."
PRE_ANTIVIRAL_NOT_TAKEN = "Prescribed antiviral prophylaxis not taken: start it before treating."
PRE_OPEN_ADVERSE_EVENTS = "Adverse events since the last visit are not reviewed: review them first."

HOLD_CONSENT = "Consent is incomplete."
HOLD_ADVERSE_EVENTS = "Open adverse events must be reviewed before booking."
HOLD_PAUSE_TOO_SHORT = "{label} must be stopped {days} days before the appointment; the patient cannot pause in time."
ERR_BOOKING_DATES = "The appointment cannot be before the booking day."
ERR_NEGATIVE_COUNT = "A count of adverse events cannot be negative."


@dataclass(frozen=True)
class PreSessionAnswers:
    pregnant: bool
    new_medicines: str
    recent_sun_or_tan: bool
    active_lesion_or_infection: bool
    topical_pauses_kept: bool
    antiviral_taken: bool | None  # None = not prescribed


def pre_session_blockers(
    answers: PreSessionAnswers, modality: str, open_unreviewed_adverse_events: int
) -> list[str]:
    """Day-of-treatment checks; any entry means do not treat today (§3, §9)."""
    _check_modality(modality)
    if open_unreviewed_adverse_events < 0:
        raise ValueError(ERR_NEGATIVE_COUNT)
    blockers = []
    if answers.pregnant:
        blockers.append(PRE_PREGNANT)  # S31
    if answers.new_medicines.strip():
        blockers.append(PRE_NEW_MEDICINES)  # S34, S33, S27
    if answers.recent_sun_or_tan:
        blockers.append(PRE_RECENT_SUN)  # S35, S31
    if answers.active_lesion_or_infection:
        blockers.append(PRE_ACTIVE_LESION)  # S31, S30
    if not answers.topical_pauses_kept:
        blockers.append(PRE_PAUSES_NOT_KEPT)  # S35, S70
    if answers.antiviral_taken is False:
        blockers.append(PRE_ANTIVIRAL_NOT_TAKEN)  # S28, S29
    if open_unreviewed_adverse_events:
        blockers.append(PRE_OPEN_ADVERSE_EVENTS)  # §9: review AEs before each session; PIH/rebound hold
    return blockers


def booking_holds(
    *,
    consent_complete: bool,
    open_adverse_events: int,
    adjuncts: Sequence[AdjunctSpec],
    pause_started_on: Mapping[str, date] | None,
    appointment_date: date,
    booked_on: date,
) -> list[str]:
    """Reasons a session should not be booked on this date yet.

    A pause counts from pause_started_on[agent] when the patient has already stopped the
    agent, otherwise from the booking day (they stop today at the earliest). It is too short
    when the appointment falls fewer than the agent's pause days after that start.
    """
    if appointment_date < booked_on:
        raise ValueError(ERR_BOOKING_DATES)
    if open_adverse_events < 0:
        raise ValueError(ERR_NEGATIVE_COUNT)
    pause_started_on = pause_started_on or {}
    holds = []
    if not consent_complete:
        holds.append(HOLD_CONSENT)
    if open_adverse_events:
        holds.append(HOLD_ADVERSE_EVENTS)  # §9 hold rule
    for spec in adjuncts:
        days = effective_pause_days(spec)  # S35, S70
        if not days:
            continue
        paused_from = pause_started_on.get(spec.agent, booked_on)
        if (appointment_date - paused_from).days < days:
            holds.append(HOLD_PAUSE_TOO_SHORT.format(label=AGENT_LABELS[spec.agent], days=days))
    return holds


PREP_STOP_AGENT = "Stop {label} from {stop_on:%A %d %B %Y} ({days} days before your session)."
PREP_STOP_AGENT_TODAY = "Stop {label} today ({days} days before your session)."
PREP_STOP_AGENT_LATE = (
    "{label} should be stopped {days} days before your session, so it should already have been stopped. "
    "If you are still using it, stop now and call us: we may need to move your visit."
)
PREP_NO_SUN = (
    "No sunbathing, sunbeds, tanning or self-tanner for {days} days before your session; "
    "wear broad-spectrum SPF 30+ every day."
)
PREP_ANTIVIRAL = (
    "Take your antiviral medicine (e.g. valacyclovir) as prescribed, starting 1–2 days before your session."
)


def pre_session_instructions(
    *,
    adjuncts: Sequence[AdjunctSpec],
    hsv_history: bool,
    session_date: date,
    cfg: RuleConfig = DEFAULT_CONFIG,
    today: date | None = None,
) -> list[str]:
    """What this patient must do before a session, for the reminder: pauses with their start dates,
    sun avoidance, antiviral when HSV history calls for prophylaxis.

    today is the day the patient reads it: a pause that should have started before today is said plainly
    (stop now, the visit may need to move) rather than given a date in the past.
    """
    steps = []
    for spec in sorted(adjuncts, key=lambda s: s.agent):
        days = effective_pause_days(spec)  # S35, S70
        if not days or (spec.stop_date is not None and spec.stop_date <= session_date - timedelta(days=days)):
            continue  # never paused, or already stopped for good in time
        stop_on = session_date - timedelta(days=days)
        label = AGENT_LABELS[spec.agent]
        if today is not None and stop_on < today:
            steps.append(PREP_STOP_AGENT_LATE.format(label=label, days=days))
        elif today is not None and stop_on == today:
            steps.append(PREP_STOP_AGENT_TODAY.format(label=label, days=days))
        else:
            steps.append(PREP_STOP_AGENT.format(label=label, stop_on=stop_on, days=days))
    steps.append(PREP_NO_SUN.format(days=cfg.recent_tan_days))  # S35, S31
    if hsv_history:
        steps.append(PREP_ANTIVIRAL)  # S28, S29
    return steps
