"""Maintenance after the course (§9: S16, S25, S78): each completed course's follow-ups against its end-of-course
mMASI, the maintenance flag (plans.rules.outcomes.maintenance_due), and the front desk's recall list of patients
due a follow-up or flagged for a maintenance discussion. The recall list is one query whatever the data size."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, Max, OuterRef, Q, Subquery
from django.utils import timezone

from plans import rules
from plans.rules import outcomes as rules_outcomes
from plans.config import outcome_config, rule_config
from plans.models import (
    Assessment, AssessmentKind, Plan, PlanState, ProtocolTemplate, ReminderLog, SessionStatus, TreatmentSession,
)
from plans.selectors import register_plan_panel

RECALL_AHEAD_DAYS = 14  # front desk calls this far ahead of a follow-up's date


def _latest(queryset, field="mmasi"):
    return Subquery(queryset.order_by("-taken_on", "-id").values(field)[:1])


def maintenance_template_for(modality: str) -> ProtocolTemplate | None:
    """The clinic's maintenance template for the modality (a template whose name starts with "Maintenance"), or
    any active maintenance template (monthly RF microneedling maintenance is an option, S25)."""
    templates = list(ProtocolTemplate.objects.filter(is_active=True, name__istartswith="maintenance"))
    return next((t for t in templates if t.modality == modality), templates[0] if templates else None)


def plan_aftercourse_panel(plan, user) -> dict | None:
    """Completed course: follow-ups against the end-of-course mMASI and the maintenance flag; one query."""
    if plan.state != PlanState.COMPLETED or not user.has_perm("plans.view_assessment"):
        return None
    assessments = list(Assessment.objects.filter(plan_id=plan.pk).order_by("taken_on", "id"))
    baseline = next((a for a in assessments if a.kind == AssessmentKind.BASELINE), None)
    during = [a for a in assessments if a.kind != AssessmentKind.BASELINE and a.followup_month is None]
    end = during[-1] if during else None
    min_points = rule_config().min_meaningful_change_points
    cfg = outcome_config()
    rows = []
    for a in assessments:
        if a.kind != AssessmentKind.FOLLOW_UP:
            continue
        rows.append({
            "assessment": a,
            "vs_end_points": None if end is None else a.mmasi - end.mmasi,
            "vs_end_change": None if end is None else rules.percent_change(end.mmasi, a.mmasi) if end.mmasi else None,
            "maintenance_due": rules_outcomes.maintenance_due(
                baseline and baseline.mmasi, end and end.mmasi, a.mmasi, min_meaningful_points=min_points, cfg=cfg
            ),
        })
    flagged = bool(rows) and rows[-1]["maintenance_due"]
    template = maintenance_template_for(plan.modality) if flagged and user.has_perm("plans.add_plan") else None
    return {
        "plan": plan,
        "aftercourse_template": template,
        "aftercourse_end": end, "aftercourse_baseline": baseline, "aftercourse_rows": rows,
        "aftercourse_flagged": flagged, "aftercourse_relapse_percent": cfg.relapse_percent_of_baseline,
    }


register_plan_panel("plans/maintenance/includes/plan_aftercourse.html", plan_aftercourse_panel)


@dataclass
class Recall:
    plan: Plan
    next_followup_month: int | None
    next_followup_on: date | None
    maintenance_due: bool
    latest_followup: object
    end: object
    last_reminder_at: object


def recall_list(today: date | None = None) -> list[Recall]:
    """Completed courses (with no newer course for the patient) whose next follow-up falls within
    RECALL_AHEAD_DAYS (or is overdue), or whose latest follow-up flags maintenance. One query."""
    today = today or timezone.localdate()
    of_plan = Assessment.objects.filter(plan=OuterRef("pk"))
    last_session = (
        TreatmentSession.objects.filter(plan=OuterRef("pk"), status=SessionStatus.COMPLETED)
        .order_by("-performed_at").values("performed_at")[:1]
    )
    newer = Plan.objects.filter(patient=OuterRef("patient"), start_date__gt=OuterRef("start_date")).exclude(state="stopped")
    last_reminder = ReminderLog.objects.filter(appointment__patient=OuterRef("patient")).order_by("-sent_at").values("sent_at")[:1]
    plans = (
        Plan.objects.filter(state=PlanState.COMPLETED, patient__archived_at__isnull=True)
        .annotate(
            baseline_mmasi=Subquery(of_plan.filter(kind=AssessmentKind.BASELINE).order_by("taken_on", "id").values("mmasi")[:1]),
            end_mmasi=_latest(of_plan.exclude(kind=AssessmentKind.BASELINE).filter(followup_month__isnull=True)),
            latest_fu_mmasi=_latest(of_plan.filter(kind=AssessmentKind.FOLLOW_UP, followup_month__isnull=False)),
            last_fu_month=Subquery(
                of_plan.filter(followup_month__isnull=False).order_by().values("plan")
                .annotate(m=Max("followup_month")).values("m")
            ),
            last_session_at=Subquery(last_session),
            has_newer=Exists(newer),
            last_reminder_at=Subquery(last_reminder),
        )
        .filter(has_newer=False)
        .select_related("patient")
        .order_by("patient__last_name", "patient__first_name", "id")
    )
    cfg, min_points = outcome_config(), rule_config().min_meaningful_change_points
    recalls = []
    for plan in plans:
        due = rules_outcomes.maintenance_due(
            plan.baseline_mmasi, plan.end_mmasi, plan.latest_fu_mmasi, min_meaningful_points=min_points, cfg=cfg
        )
        month = on = None
        if plan.last_session_at:
            last_day = timezone.localtime(plan.last_session_at).date()
            month = next((m for m in (plan.followup_months or cfg.followup_months) if m > (plan.last_fu_month or 0)), None)
            on = rules.add_months(last_day, month) if month else None
        calling = on is not None and on <= today + timedelta(days=RECALL_AHEAD_DAYS)
        if due or calling:
            recalls.append(Recall(plan, month if calling else None, on if calling else None, due,
                                  plan.latest_fu_mmasi, plan.end_mmasi, plan.last_reminder_at))
    return recalls
