"""Reads for courses: the plan page (timeline, findings, consent), the builder's preview, templates and texts.

Each function does a fixed number of queries whatever the number of sessions, adjuncts or consents.
"""

import dataclasses
import datetime as dt

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from clinic.selectors import register_panel
from plans import rules
from plans.config import rule_config
from plans.models import (
    Appointment,
    Consent,
    ConsentKind,
    ConsentText,
    FindingOverride,
    Plan,
    PlanState,
    ProtocolTemplate,
    TreatmentSession,
)
from plans.models.scheduling import LIVE_APPOINTMENT_STATUSES
from plans.models.visits import SessionStatus

SESSION_PLANNED = "planned"
SESSION_SCHEDULED = "scheduled"
SESSION_DONE = "done"
SESSION_MISSED = "missed"
SESSION_SKIPPED = "skipped"

_SCREENING_FIELDS = [f.name for f in dataclasses.fields(rules.ScreeningAnswers) if f.name != "screening_confirmed_on"]


def _local_date(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(moment) if moment else None


def screening_answers(patient) -> rules.ScreeningAnswers:
    values = {name: getattr(patient, name) for name in _SCREENING_FIELDS}
    values["photosensitising_medicines"] = values["photosensitising_medicines"] or ""
    values["allergies"] = values["allergies"] or ""
    return rules.ScreeningAnswers(**values, screening_confirmed_on=_local_date(patient.screening_confirmed_at))


def adjunct_specs(adjuncts) -> list[rules.AdjunctSpec]:
    """Rules' view of adjunct rows: PlanAdjunct instances or light rows with the same fields, or the builder's row
    dicts (blank agents skipped)."""

    def value(row, name):
        return row.get(name) if isinstance(row, dict) else getattr(row, name)

    return [
        rules.AdjunctSpec(
            agent=value(a, "agent"), strength=value(a, "strength") or "",
            pause_days_before=value(a, "pause_days_before") or 0,
            start_date=value(a, "start_date"), stop_date=value(a, "stop_date"),
        )
        for a in adjuncts
        if value(a, "agent")
    ]


def pregnancy_questions_apply(patient, today: dt.date | None = None) -> bool:
    """Whether pregnancy and breastfeeding questions are asked of this patient (rules.could_be_pregnant)."""
    return rules.could_be_pregnant(screening_answers(patient), today or timezone.localdate(), plan_config())


def findings_for(
    patient, *, modality: str, adjuncts: list[rules.AdjunctSpec], start: dt.date, sessions: int, interval_days: int,
    today: dt.date, cfg: rules.RuleConfig | None = None,
) -> list[rules.Finding]:
    """The one screening every page uses (builder preview, plan page, activation, overrides): the patient's
    answers × modality × adjuncts, adjuncts without a stop date judged through the planned course."""
    cfg = cfg or plan_config()
    course_end = rules.course_schedule(start, sessions, interval_days, cfg=cfg).last_session_on
    return rules.screen(screening_answers(patient), modality, adjuncts, today, cfg, course_end=course_end)


def plan_config(plan: Plan | None = None, *, clinic: rules.RuleConfig | None = None) -> rules.RuleConfig:
    """The clinic's rule config, with the plan's own window and follow-up months when a plan is given
    (rules.plan_rule_config). Every page and service that needs a plan's windows goes through here.
    `clinic`: the clinic's config already read (rule_config()), for callers looping over many plans."""
    cfg = clinic or rule_config()
    if plan is None:
        return cfg
    return rules.plan_rule_config(
        cfg, window_before_days=plan.window_before_days, window_after_days=plan.window_after_days,
        followup_months=plan.followup_months or (),
    )


def plan_findings(plan: Plan, today: dt.date | None = None) -> list[rules.Finding]:
    """Contraindication findings for the plan: the patient's answers × modality × adjuncts (rules.screen)."""
    return findings_for(
        plan.patient, modality=plan.modality, adjuncts=adjunct_specs(plan.adjuncts.all()), start=plan.start_date,
        sessions=plan.sessions_planned, interval_days=plan.interval_days, today=today or timezone.localdate(),
        cfg=plan_config(plan),
    )


def consent_status(plan: Plan) -> dict:
    """Which consents are recorded. Uses plan.consents (prefetch ``consents__text`` to avoid queries)."""
    by_kind: dict[str, Consent] = {}
    for consent in sorted(plan.consents.all(), key=lambda c: c.signed_at):
        by_kind[consent.text.kind] = consent  # latest signed wins
    modality = by_kind.get(plan.modality)
    exosome = by_kind.get(ConsentKind.EXOSOME)
    exosome_required = plan.exosome_product_id is not None  # only a plan that uses an exosome product
    return {
        "modality": modality is not None,
        "exosome": exosome is not None,
        "exosome_required": exosome_required,
        "complete": rules.consent_complete(modality is not None, exosome is not None, uses_exosome=exosome_required),
        "modality_consent": modality,
        "exosome_consent": exosome,
        "modality_kind": plan.modality,
        "exosome_kind": ConsentKind.EXOSOME.value,
    }


def consent_columns(plan: str = "") -> dict:
    """A consent of the plan for its modality and one for exosome use (an id, or None when there is none), as two
    columns for a query on plans (`plan=""`) or on rows pointing at one (`plan="plan__"`, e.g. appointments);
    rules.consent_complete combines them with whether the plan uses an exosome product."""
    for_plan = Consent.objects.filter(plan=OuterRef(f"{plan}pk")).order_by()
    # Scalar subqueries (one consent's id or NULL), not EXISTS: PostgreSQL may run an EXISTS as one hashed scan
    # of every exosome consent in the clinic, which grows with the clinic; these stay one index probe a row.
    return {
        "consent_modality": Subquery(for_plan.filter(text__kind=OuterRef(f"{plan}modality")).values("pk")[:1]),
        "consent_exosome": Subquery(for_plan.filter(text__kind=ConsentKind.EXOSOME).values("pk")[:1]),
    }


def plans_consent_complete(plan_ids) -> set[int]:
    """The plans among plan_ids (ids, or a subquery selecting them) with complete consent
    (rules.consent_complete), in one query."""
    rows = (
        Plan.objects.filter(pk__in=plan_ids if isinstance(plan_ids, QuerySet) else list(plan_ids))
        .annotate(**consent_columns())
        .values_list("pk", "consent_modality", "consent_exosome", "exosome_product_id")
    )
    return {
        pk for pk, modality, exosome, product in rows
        if rules.consent_complete(modality is not None, exosome is not None, uses_exosome=product is not None)
    }


def activation_state(plan: Plan, today: dt.date | None = None) -> dict:
    """Findings, overrides, consent and staleness, and what still blocks activation (rules.activation_blockers)."""
    today = today or timezone.localdate()
    cfg = plan_config()
    findings = plan_findings(plan, today)
    overrides = {o.code: o for o in plan.overrides.all()}
    consent = consent_status(plan)
    stale = rules.screening_is_stale(_local_date(plan.patient.screening_confirmed_at), today, cfg)
    blockers = rules.activation_blockers(
        findings, set(overrides), consent["modality"], consent["exosome"], stale,
        uses_exosome=consent["exosome_required"],
    )
    rows = [{"finding": f, "override": overrides.get(f.code)} for f in findings]
    return {
        "findings": findings, "finding_rows": rows, "overrides": overrides, "consent": consent,
        "screening_stale": stale, "blockers": blockers,
    }


# --- Timeline ---------------------------------------------------------------------------------------------


def _rows(windows, sessions_by_number, appointments_by_number, performed, today):
    rows = []
    for window in windows:
        session = sessions_by_number.get(window.number)
        appointment = appointments_by_number.get(window.number)
        if session is not None and session.status == SessionStatus.COMPLETED:
            status = SESSION_DONE
        elif session is not None and session.status == SessionStatus.MISSED:
            status = SESSION_MISSED
        elif session is not None and session.status == SessionStatus.SKIPPED:
            status = SESSION_SKIPPED
        elif appointment is not None:
            status = SESSION_SCHEDULED
        else:
            status = SESSION_PLANNED
        rows.append(
            {
                "window": window, "session": session, "appointment": appointment, "status": status,
                "performed_on": performed.get(window.number),
                "overdue": status == SESSION_PLANNED and today is not None and window.latest < today,
                "blocked": session is not None and session.status == SessionStatus.BLOCKED,
            }
        )
    return rows


def course_timeline(
    *, start: dt.date, sessions: int, interval_days: int, cfg: rules.RuleConfig, performed=None, booked=None,
) -> dict:
    """Targets and windows for every session, and the follow-up dates after the last one (rules.course_schedule)."""
    schedule = rules.course_schedule(start, sessions, interval_days, performed, booked, cfg)
    return {"windows": schedule.windows, "followups": schedule.followups}


def plan_timeline(plan: Plan, today: dt.date | None = None, *, live_appointments=None) -> dict:
    """The course timeline: one row per planned session (status planned/scheduled/done/missed) and follow-ups.

    Uses plan.sessions (prefetched by plan_for_page) plus one query for live appointments, unless the caller has
    loaded them already for many plans at once (`live_appointments`: the plan's live bookings, by start).
    """
    today = today or timezone.localdate()
    sessions = {s.number: s for s in plan.sessions.all() if s.number <= plan.sessions_planned}
    performed = {
        number: _local_date(s.performed_at or s.completed_at)
        for number, s in sessions.items()
        if s.status == SessionStatus.COMPLETED and (s.performed_at or s.completed_at)
    }
    appointments = {}
    if live_appointments is None:
        live_appointments = [a for a in plan_appointments(plan) if a.status in LIVE_APPOINTMENT_STATUSES]
    numbers = {s.pk: number for number, s in sessions.items()}  # sessions within the planned count
    for appointment in live_appointments:
        number = numbers.get(appointment.session_id)
        if number is not None:
            appointments.setdefault(number, appointment)
    booked = {n: _local_date(a.start) for n, a in appointments.items()}
    timeline = course_timeline(
        start=plan.start_date, sessions=plan.sessions_planned, interval_days=plan.interval_days,
        cfg=plan_config(plan), performed=performed, booked=booked,
    )
    timeline["rows"] = _rows(timeline["windows"], sessions, appointments, performed, today)
    timeline["booked"] = set(booked)
    return timeline


def timeline_preview(*, start, sessions, interval_days, window_before_days, window_after_days, followup_months) -> dict:
    """The builder's preview before saving: nothing performed or booked yet."""
    cfg = rules.plan_rule_config(
        rule_config(), window_before_days=window_before_days, window_after_days=window_after_days,
        followup_months=followup_months or (),
    )
    timeline = course_timeline(start=start, sessions=sessions, interval_days=interval_days, cfg=cfg)
    timeline["rows"] = _rows(timeline["windows"], {}, {}, {}, None)
    return timeline


DEVICE_LABELS = {
    "needle_depth_mm": "Needle depth (mm)", "depth_forehead_mm": "Depth, forehead (mm)",
    "depth_malar_mm": "Depth, malar (mm)", "depth_chin_mm": "Depth, chin (mm)", "zone_depths_mm": "Depth per zone (mm)",
    "speed": "Pen speed", "endpoint": "Clinical endpoint", "wavelength_nm": "Wavelength (nm)",
    "energy_mj": "Pulse energy (mJ)", "density_percent": "Density (% coverage)", "total_energy_kj": "Total energy (kJ)",
    "power_level": "Power / energy level", "pulse_duration_ms": "Pulse duration (ms)", "pins": "Tip pin count",
    "passes": "Passes", "cooling": "Cooling", "note": "Note",
}


def device_settings_rows(settings: dict) -> list[tuple[str, object]]:
    rows = []
    for key, value in (settings or {}).items():
        if isinstance(value, dict):
            value = ", ".join(f"{zone} {mm}" for zone, mm in value.items())
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        rows.append((DEVICE_LABELS.get(key, key.replace("_", " ")), value))
    return rows


# --- Pages ------------------------------------------------------------------------------------------------


def plan_patient_id(plan_id: int) -> int:
    """The plan's patient (one primary-key read), or 404 for an unknown plan."""
    patient_id = Plan.objects.filter(pk=plan_id).values_list("patient_id", flat=True).first()
    if patient_id is None:
        raise Http404("No such plan.")
    return patient_id


def plan_for_page(plan_id: int) -> Plan:
    """The plan with everything its page reads, in a fixed number of queries."""
    queryset = Plan.objects.select_related(
        "patient", "patient__screening_confirmed_by", "exosome_product", "template", "approved_by"
    ).prefetch_related(
        "adjuncts",
        Prefetch("overrides", queryset=FindingOverride.objects.select_related("by")),
        Prefetch("consents", queryset=Consent.objects.select_related("text", "clinician")),
        # The lot and performer too: the sessions panel (plans.selectors.visits) reads them from this prefetch.
        Prefetch("sessions", queryset=TreatmentSession.objects.select_related(
            "exosome_lot__product", "performed_by").order_by("number")),
        # Read by the timeline and by the scheduling panel (plan_appointments): one query for both.
        Prefetch("appointments", queryset=Appointment.objects.select_related("room", "clinician", "device").order_by("start", "id")),
    )
    return get_object_or_404(queryset, pk=plan_id)


def plan_appointments(plan: Plan) -> list[Appointment]:
    """Every appointment of the plan by start, with room, clinician and device: plan_for_page's prefetch when
    there is one, else one query."""
    if "appointments" in getattr(plan, "_prefetched_objects_cache", {}):
        return list(plan.appointments.all())
    return list(Appointment.objects.filter(plan=plan).select_related("room", "clinician", "device").order_by("start", "id"))


def plan_page_context(plan: Plan, user, today: dt.date | None = None) -> dict:
    from plans.selectors import panels_for

    today = today or timezone.localdate()
    activation = activation_state(plan, today)
    return {
        "plan": plan,
        "patient": plan.patient,
        "timeline": plan_timeline(plan, today),
        "activation": activation,
        "consent": activation["consent"],
        "device_rows": device_settings_rows(plan.device_settings),
        "can_activate": plan.state == PlanState.DRAFT and not activation["blockers"],
        "editable": plan.state in (PlanState.DRAFT, PlanState.ACTIVE),
        "transitions": {state: rules.can_transition(plan.state, state) for state in rules.PLAN_TRANSITIONS},
        "plan_panels": panels_for("plan", plan, user),
        "today": today,
    }


def plan_for_write(plan_id: int) -> Plan:
    return get_object_or_404(Plan.objects.select_related("patient"), pk=plan_id)


def current_consent_text(kind: str) -> ConsentText | None:
    return ConsentText.objects.filter(kind=kind).order_by("-version").first()


def consent_texts_by_kind() -> list[dict]:
    """Every version of every consent kind, newest first, for the managers' page."""
    texts = list(ConsentText.objects.select_related("created_by").order_by("kind", "-version"))
    return [
        {"kind": kind, "label": label, "versions": [t for t in texts if t.kind == kind]}
        for kind, label in ConsentKind.choices
    ]


def protocol_templates(*, active_only: bool = False):
    queryset = ProtocolTemplate.objects.select_related("exosome_product").order_by("name")
    return queryset.filter(is_active=True) if active_only else queryset


def dashboard_draft_plans(user) -> dict | None:
    """Clinicians' dashboard: drafts still to screen, consent and activate, soonest start first (one query)."""
    if not user.has_perm("plans.add_plan"):
        return None
    drafts = Plan.objects.filter(state=PlanState.DRAFT).select_related("patient").order_by("start_date", "id")
    return {"course_draft_plans": list(drafts[:10])}


register_panel("plans/course/includes/dashboard_drafts.html", dashboard_draft_plans)
