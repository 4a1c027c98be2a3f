"""Plan states, transitions and what blocks activation."""

from collections.abc import Iterable

from .screening import Finding, FindingKind


PLAN_DRAFT = "draft"
PLAN_ACTIVE = "active"
PLAN_COMPLETED = "completed"
PLAN_STOPPED = "stopped"
PLAN_STATE_CHOICES = [
    (PLAN_DRAFT, "Draft"),
    (PLAN_ACTIVE, "Active"),
    (PLAN_COMPLETED, "Completed"),
    (PLAN_STOPPED, "Stopped"),
]
# draft → active → completed | stopped. Completed and stopped are final: a new course is a new plan.
# A draft may also be stopped (discarded with a reason) so an abandoned draft is closed, never deleted.
PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    PLAN_DRAFT: frozenset({PLAN_ACTIVE, PLAN_STOPPED}),
    PLAN_ACTIVE: frozenset({PLAN_COMPLETED, PLAN_STOPPED}),
    PLAN_COMPLETED: frozenset(),
    PLAN_STOPPED: frozenset(),
}

ERR_UNKNOWN_STATE = "Unknown plan state {state!r}."
BLOCK_SCREENING_STALE = "Screening answers are missing or out of date: re-confirm them with the patient."
BLOCK_CONSENT_MODALITY = "Consent for the energy-device treatment is missing."
BLOCK_CONSENT_EXOSOME = "Consent for the exosome product is missing."
BLOCK_ABSOLUTE = "Absolute contraindication (cannot be overridden): {message}"
BLOCK_NEEDS_OVERRIDE = "Needs a documented clinician override: {message}"
BLOCK_HARD_STOP = "Remove the adjunct from the plan (cannot be overridden): {message}"


def can_transition(from_state: str, to_state: str) -> bool:
    for state in (from_state, to_state):
        if state not in PLAN_TRANSITIONS:
            raise ValueError(ERR_UNKNOWN_STATE.format(state=state))
    return to_state in PLAN_TRANSITIONS[from_state]


def consent_complete(consent_modality: bool, consent_exosome: bool, *, uses_exosome: bool) -> bool:
    """Consent for the plan's energy-device treatment, and for the exosome product when the plan uses one: what
    activation needs (activation_blockers) and what a booked session is held for (booking holds)."""
    return consent_modality and (consent_exosome or not uses_exosome)


def activation_blockers(
    findings: Iterable[Finding],
    overridden_codes: set[str],
    consent_modality: bool,
    consent_exosome: bool,
    screening_stale: bool,
    *,
    uses_exosome: bool = True,
) -> list[str]:
    """What still stops a draft becoming active; empty means it may activate.

    Absolute findings and adjunct hard stops ignore overrides (a hard stop clears only when the adjunct
    is removed); other blocking findings clear once their code is overridden (with a reason, which the
    service records). Exosome consent is needed only when the plan uses an exosome product.
    """
    blockers = []
    if screening_stale:
        blockers.append(BLOCK_SCREENING_STALE)
    if not consent_modality:
        blockers.append(BLOCK_CONSENT_MODALITY)
    if uses_exosome and not consent_exosome:
        blockers.append(BLOCK_CONSENT_EXOSOME)
    for finding in findings:
        if not finding.blocks_activation:
            continue
        if finding.kind is FindingKind.ABSOLUTE:
            blockers.append(BLOCK_ABSOLUTE.format(message=finding.message))
        elif finding.hard_stop:
            blockers.append(BLOCK_HARD_STOP.format(message=finding.message))
        elif finding.code not in overridden_codes:
            blockers.append(BLOCK_NEEDS_OVERRIDE.format(message=finding.message))
    return blockers
