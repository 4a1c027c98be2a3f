"""Writes for courses: plans and their sessions, finding overrides, consent, lifecycle, templates, consent texts.

Every function owns its transaction, locks the row it changes and calls ``full_clean()`` before saving.
Clinical meaning (what blocks activation, which transitions exist) comes from ``plans.rules``.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from plans import rules
from plans.models import (
    Appointment,
    Consent,
    ConsentKind,
    ConsentText,
    FindingOverride,
    Plan,
    PlanAdjunct,
    PlanState,
    ProtocolTemplate,
    TreatmentSession,
)
from plans.models.scheduling import LIVE_APPOINTMENT_STATUSES
from plans.models.visits import SessionStatus
from plans.services import clean_save

ERR_NOT_EDITABLE = "Only a draft or active plan can be changed."
ERR_PERFORMED_SESSIONS = (
    "Session {number} has already been performed: the course cannot have fewer than {number} sessions."
)
ERR_BOOKED_SESSION = "Session {number} has a live booking: cancel the booking before shortening the course."
REASON_COURSE_SHORTENED = "Course shortened to {count} sessions."
ERR_MODALITY_LOCKED = "The modality of an active plan cannot change (consent was given for it)."
ERR_OVERRIDE_REASON = "Write the reason for proceeding despite this finding."
ERR_OVERRIDE_UNKNOWN = "There is no finding needing an override with that code on this plan."
ERR_OVERRIDE_STATE = "Findings can only be overridden on a draft or active plan."
ERR_CONSENT_CONFIRM = "The patient must confirm they have read and understood the text."
ERR_CONSENT_KIND = "This consent text is not for this plan's treatment."
ERR_CONSENT_STATE = "Consent can only be recorded for a draft or active plan."
ERR_CONSENT_OLD_VERSION = "A newer version of this consent text exists: use the current version."
ERR_CONSENT_FUTURE = "The signing time cannot be in the future."
ERR_TRANSITION = "A {from_state} plan cannot become {to_state}."
ERR_STOP_REASON = "Give the reason for stopping this plan."
ERR_NOT_APPROVER = "Only a clinician may approve a plan."
ERR_HARD_STOP_ACTIVE = "This adjunct cannot be given to this patient (it cannot be overridden): {message}"

# Fields of Plan the builder sets directly (adjuncts and sessions are handled separately).
PLAN_FIELDS = (
    "modality", "device_name", "device_settings", "sessions_planned", "interval_days", "window_before_days",
    "window_after_days", "start_date", "exosome_product", "followup_months", "goals", "notes",
    "spf", "broad_spectrum", "tinted_iron_oxide", "reapply_hours", "sun_notes",
)
ADJUNCT_FIELDS = ("agent", "strength", "frequency", "start_date", "stop_date", "pause_days_before", "notes")


def _check_course_size(sessions: int) -> None:
    try:
        rules.course_size_warning(sessions)
    except ValueError as exc:
        raise ValidationError({"sessions_planned": str(exc)}) from exc


def _replace_adjuncts(plan: Plan, adjuncts: list[dict], by) -> None:
    """The regimen is small and has its own history: the rows are replaced by the submitted list."""
    for old in plan.adjuncts.all():
        # A regimen line is a prescription, not a clinical record: removing it is allowed and
        # django-simple-history keeps the removed row with who and when.
        old._history_user = by
        old.delete()
    for row in adjuncts:
        adjunct = PlanAdjunct(plan=plan, **{k: row.get(k) for k in ADJUNCT_FIELDS if k in row})
        if adjunct.pause_days_before is None:
            adjunct.pause_days_before = rules.DEFAULT_PAUSE_DAYS.get(adjunct.agent, 0)  # S35, S70
        for name in ("strength", "frequency", "notes"):
            if getattr(adjunct, name) is None:
                setattr(adjunct, name, "")
        clean_save(adjunct, by=by)


def _sync_sessions(plan: Plan, by) -> None:
    """Sessions 1..sessions_planned exist and are live; later ones not performed are cancelled.

    Sessions are clinical records and never deleted: a shortened course cancels the sessions it no longer
    has, and lengthening it again brings them back. Performed sessions are never touched.
    """
    existing = {s.number: s for s in TreatmentSession.objects.select_for_update().filter(plan=plan)}
    booked = (
        Appointment.objects.filter(session__plan=plan, session__number__gt=plan.sessions_planned, status__in=LIVE_APPOINTMENT_STATUSES)
        .exclude(session__status=SessionStatus.CANCELLED)
        .order_by("session__number")
        .values_list("session__number", flat=True)
        .first()
    )
    if booked is not None:
        # Cancelling the session would strand its booking; the front desk cancels the booking first.
        raise ValidationError({"sessions_planned": ERR_BOOKED_SESSION.format(number=booked)})
    for number, session in existing.items():
        if number > plan.sessions_planned and session.status not in (SessionStatus.CANCELLED, SessionStatus.COMPLETED):
            session.status = SessionStatus.CANCELLED
            session.closed_reason = REASON_COURSE_SHORTENED.format(count=plan.sessions_planned)
            session.closed_at, session.closed_by = timezone.now(), by
            session._history_user = by
            session.save(update_fields=["status", "closed_reason", "closed_at", "closed_by"])
        elif number <= plan.sessions_planned and session.status == SessionStatus.CANCELLED:
            session.status = SessionStatus.PLANNED
            session.closed_reason, session.closed_at, session.closed_by = "", None, None
            session._history_user = by
            session.save(update_fields=["status", "closed_reason", "closed_at", "closed_by"])
    for number in range(1, plan.sessions_planned + 1):
        if number not in existing:
            session = TreatmentSession(plan=plan, number=number, status=SessionStatus.PLANNED)
            clean_save(session, by=by)


@transaction.atomic
def plan_create(*, patient, by, adjuncts: list[dict] | None = None, template: ProtocolTemplate | None = None, **fields) -> Plan:
    """A draft plan with its adjunct regimen and sessions 1..sessions_planned (status planned)."""
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Unknown plan fields: {sorted(unknown)}")
    plan = Plan(patient=patient, template=template, created_by=by, state=PlanState.DRAFT, **fields)
    _check_course_size(plan.sessions_planned)
    clean_save(plan, by=by)
    _replace_adjuncts(plan, adjuncts or [], by)
    _sync_sessions(plan, by)
    return plan


@transaction.atomic
def plan_update(*, plan: Plan, by, adjuncts: list[dict] | None = None, **fields) -> Plan:
    """Change a draft or active plan. Sessions already performed are never rewritten.

    Session dates are not stored: they follow from start, interval and what was performed (rules.session_windows),
    so a new interval moves only the sessions still to come.
    """
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Unknown plan fields: {sorted(unknown)}")
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.state not in (PlanState.DRAFT, PlanState.ACTIVE):
        raise ValidationError(ERR_NOT_EDITABLE)
    if plan.state == PlanState.ACTIVE and fields.get("modality", plan.modality) != plan.modality:
        raise ValidationError({"modality": ERR_MODALITY_LOCKED})
    for name, value in fields.items():
        setattr(plan, name, value)
    _check_course_size(plan.sessions_planned)
    last_performed = (
        TreatmentSession.objects.filter(plan=plan, status=SessionStatus.COMPLETED).aggregate(n=Max("number"))["n"]
    )
    if last_performed and plan.sessions_planned < last_performed:
        raise ValidationError({"sessions_planned": ERR_PERFORMED_SESSIONS.format(number=last_performed)})
    clean_save(plan, by=by)
    if adjuncts is not None:
        _replace_adjuncts(plan, adjuncts, by)
        if plan.state == PlanState.ACTIVE:
            _refuse_hard_stops(plan)
    _sync_sessions(plan, by)
    return plan


def _refuse_hard_stops(plan: Plan) -> None:
    """An active plan was activated without hard stops; an adjunct added later that the reference
    contraindicates for this patient (S47, S40, S36) is refused the same way (the transaction rolls back)."""
    from plans.selectors.course import plan_findings

    plan = Plan.objects.select_related("patient").prefetch_related("adjuncts").get(pk=plan.pk)
    hard_stops = [f for f in plan_findings(plan) if f.hard_stop]
    if hard_stops:
        raise ValidationError(
            {"__all__": [ERR_HARD_STOP_ACTIVE.format(message=f.message) for f in hard_stops]}
        )


@transaction.atomic
def finding_override_record(*, plan: Plan, code: str, reason: str, by) -> FindingOverride:
    """A clinician's written reason to proceed despite a relative or adjunct finding of this plan."""
    from plans.selectors.course import plan_findings, plan_for_page

    Plan.objects.select_for_update().filter(pk=plan.pk).first()
    plan = plan_for_page(plan.pk)
    if plan.state not in (PlanState.DRAFT, PlanState.ACTIVE):
        raise ValidationError(ERR_OVERRIDE_STATE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ERR_OVERRIDE_REASON})
    overridable = {f.code for f in plan_findings(plan) if f.overridable}  # never absolute or an adjunct hard stop
    if code not in overridable:
        raise ValidationError({"code": ERR_OVERRIDE_UNKNOWN})
    override = FindingOverride.objects.filter(plan=plan, code=code).first()
    if override is None:
        override = FindingOverride(plan=plan, code=code)
    override.reason = reason
    override.by = by
    clean_save(override, by=by)
    return override


@transaction.atomic
def consent_record(
    *,
    plan: Plan,
    text: ConsentText,
    patient_printed_name: str,
    signature: str,
    patient_confirms: bool,
    witness_name: str,
    signed_at: dt.datetime,
    by,
    scanned_form=None,
) -> Consent:
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.state not in (PlanState.DRAFT, PlanState.ACTIVE):
        raise ValidationError(ERR_CONSENT_STATE)
    if text.kind not in (plan.modality, ConsentKind.EXOSOME):
        raise ValidationError(ERR_CONSENT_KIND)
    latest = ConsentText.objects.filter(kind=text.kind).aggregate(v=Max("version"))["v"]
    if text.version != latest:
        raise ValidationError(ERR_CONSENT_OLD_VERSION)
    if not patient_confirms:
        raise ValidationError({"patient_confirms": ERR_CONSENT_CONFIRM})
    if signed_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"signed_at": ERR_CONSENT_FUTURE})
    consent = Consent(
        plan=plan, text=text, patient_printed_name=patient_printed_name, signature=signature,
        patient_confirms=True, witness_name=witness_name, signed_at=signed_at, clinician=by,
    )
    if scanned_form:
        consent.scanned_form = scanned_form
    clean_save(consent, by=by)
    return consent


def _transition(plan: Plan, to_state: str) -> None:
    if not rules.can_transition(plan.state, to_state):
        raise ValidationError(ERR_TRANSITION.format(from_state=plan.get_state_display().lower(), to_state=to_state))


@transaction.atomic
def plan_activate(*, plan: Plan, by, today: dt.date | None = None, now: dt.datetime | None = None) -> Plan:
    """Draft → active once rules.activation_blockers is empty; the findings are kept as a snapshot."""
    from plans.selectors.course import activation_state, plan_for_page

    if not by.has_perm("plans.approve_plan"):
        raise ValidationError(ERR_NOT_APPROVER)
    Plan.objects.select_for_update().filter(pk=plan.pk).first()
    plan = plan_for_page(plan.pk)
    _transition(plan, PlanState.ACTIVE)
    state = activation_state(plan, today=today)
    if state["blockers"]:
        raise ValidationError(state["blockers"])
    overrides = state["overrides"]
    plan.activation_findings = [
        {
            "code": f.code, "kind": str(f.kind), "message": f.message, "source": f.source,
            "override_reason": overrides[f.code].reason if f.code in overrides else "",
            "overridden_by": overrides[f.code].by.get_full_name() or overrides[f.code].by.username
            if f.code in overrides else "",
        }
        for f in state["findings"]
    ]
    plan.state = PlanState.ACTIVE
    plan.approved_by = by
    plan.activated_at = now or timezone.now()
    clean_save(plan, by=by)
    return plan


@transaction.atomic
def plan_stop(*, plan: Plan, reason: str, by, now: dt.datetime | None = None) -> Plan:
    """Active → stopped (or a draft discarded), always with a reason. Sessions already performed stay."""
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    _transition(plan, PlanState.STOPPED)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ERR_STOP_REASON})
    plan.state = PlanState.STOPPED
    plan.stop_reason = reason
    plan.ended_at = now or timezone.now()
    clean_save(plan, by=by)
    return plan


@transaction.atomic
def plan_complete(*, plan: Plan, by, now: dt.datetime | None = None) -> Plan:
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    _transition(plan, PlanState.COMPLETED)
    plan.state = PlanState.COMPLETED
    plan.ended_at = now or timezone.now()
    clean_save(plan, by=by)
    return plan


@transaction.atomic
def protocol_template_save(*, template: ProtocolTemplate | None = None, by, **fields) -> ProtocolTemplate:
    """Create or edit a template; django-simple-history keeps every earlier state."""
    if template is None:
        template = ProtocolTemplate()
    else:
        template = ProtocolTemplate.objects.select_for_update().get(pk=template.pk)
    for name, value in fields.items():
        setattr(template, name, value)
    clean_save(template, by=by)
    return template


@transaction.atomic
def consent_text_publish(*, kind: str, title: str, body: str, by) -> ConsentText:
    """A new version of a consent text; earlier versions stay exactly as patients read them."""
    # Lock the kind's versions so two managers publishing at once do not both take the same number.
    latest = (
        ConsentText.objects.select_for_update().filter(kind=kind).order_by("-version").values_list("version", flat=True)
    )
    version = (list(latest[:1]) or [0])[0] + 1
    text = ConsentText(kind=kind, version=version, title=title, body=body, created_by=by)
    text.full_clean()
    text.save()
    return text
