"""Reads of the visits area, each a fixed number of queries, and the panels it shows on other areas' pages:
the plan page (trend chart, sessions, adverse events, photos), the patient page (adverse events, assessments)
and the clinician's dashboard (open adverse events)."""

from datetime import date
from decimal import Decimal

from django.db.models import BooleanField, Case, CharField, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from clinic.selectors import register_panel
from plans import rules
from plans.config import rule_config
from plans.models import (
    AdverseEvent,
    AdverseEventOutcome,
    Assessment,
    AssessmentKind,
    ExosomeProduct,
    Lot,
    Photo,
    PhotoView,
    TreatmentSession,
)
from plans.selectors import register_patient_panel, register_plan_panel

# --- adverse events ---------------------------------------------------------------------------------------

OPEN_AE = Q(outcome=AdverseEventOutcome.ONGOING) | Q(reviewed_at__isnull=True)


def _unreviewed_adverse_events():
    return AdverseEvent.objects.filter(reviewed_at__isnull=True)


def open_unreviewed_adverse_events_count(patient: str = "patient_id"):
    """The number of the patient's adverse events not yet reviewed (see below), as an expression for a query on
    rows pointing at a patient (`patient`: the field holding its id)."""
    return Coalesce(Subquery(
        _unreviewed_adverse_events().filter(patient_id=OuterRef(patient))
        .order_by().values("patient_id").annotate(n=Count("id")).values("n")
    ), 0)


def open_unreviewed_adverse_events(patient_ids) -> dict[int, int]:
    """{patient_id: number of adverse events not yet reviewed by a clinician}; one query.

    An unreviewed event holds the patient's next session (§9) whatever its outcome: the clinician has to see
    what happened since the last visit before treating again."""
    rows = (
        _unreviewed_adverse_events().filter(
            patient_id__in=patient_ids if isinstance(patient_ids, QuerySet) else list(patient_ids)
        )
        .values("patient_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["patient_id"]: row["n"] for row in rows}


def _with_open_flag(queryset):
    """Adds is_open (ongoing or not reviewed) and type_label (the readable AE type, §7)."""
    return queryset.annotate(
        is_open=Case(When(OPEN_AE, then=Value(True)), default=Value(False), output_field=BooleanField()),
        type_label=Case(
            *[When(ae_type=key, then=Value(label)) for key, label in rules.AE_TYPES],
            default=F("ae_type"),
            output_field=CharField(),
        ),
    )


def _events_with_labels(queryset, *order) -> list[AdverseEvent]:
    """A page panel's few adverse events with is_open from SQL and type_label set here: the same values as
    _with_open_flag without compiling a CASE of every AE type on each page view."""
    labels = dict(rules.AE_TYPES)
    events = list(
        queryset.annotate(is_open=Case(When(OPEN_AE, then=Value(True)), default=Value(False), output_field=BooleanField()))
        .order_by(*order)
    )
    for event in events:
        event.type_label = labels.get(event.ae_type, event.ae_type)
    return events


def adverse_events_list(*, date_from: date | None = None, date_to: date | None = None):
    """Open first (ongoing or not reviewed), then the latest onset first."""
    events = AdverseEvent.objects.select_related("patient", "session", "lot__product", "reviewed_by")
    if date_from:
        events = events.filter(onset_date__gte=date_from)
    if date_to:
        events = events.filter(onset_date__lte=date_to)
    return _with_open_flag(events).order_by("-is_open", "-onset_date", "-id")


def adverse_events_report(*, date_from: date | None, date_to: date | None) -> list[dict]:
    """Rows for the CSV export and the printable report, in onset order, with the reporting flag."""
    events = AdverseEvent.objects.select_related(
        "patient", "plan", "session", "lot__product", "reviewed_by", "recorded_by"
    ).order_by("onset_date", "id")
    if date_from:
        events = events.filter(onset_date__gte=date_from)
    if date_to:
        events = events.filter(onset_date__lte=date_to)
    type_labels = dict(rules.AE_TYPES)
    return [
        {
            "event": event,
            "type_label": type_labels.get(event.ae_type, event.ae_type),
            "reportable": rules.ae_is_reportable(event.grade, event.serious),  # S74, S75, S58
        }
        for event in events
    ]


def adverse_event_detail(event_id: int) -> AdverseEvent:
    event = get_object_or_404(
        AdverseEvent.objects.select_related(
            "patient", "plan", "session", "lot__product", "reviewed_by", "recorded_by"
        ).prefetch_related("notes__by"),
        pk=event_id,
    )
    event.reportable = rules.ae_is_reportable(event.grade, event.serious)
    event.type_label = dict(rules.AE_TYPES).get(event.ae_type, event.ae_type)
    event.is_open = event.outcome == AdverseEventOutcome.ONGOING or event.reviewed_at is None
    return event


def adverse_event_history(event: AdverseEvent) -> list:
    return list(event.history.select_related("history_user").order_by("-history_date", "-history_id"))


# --- sessions --------------------------------------------------------------------------------------------


def session_for_page(session_id: int) -> TreatmentSession:
    return get_object_or_404(
        TreatmentSession.objects.select_related("plan__patient", "exosome_lot__product", "performed_by"),
        pk=session_id,
    )


def session_page_context(session: TreatmentSession, user) -> dict:
    """What the session page shows; lists a role may not see are not queried (a fixed number of queries)."""
    checks = list(session.checks.select_related("by").order_by("-at", "-id"))
    latest = checks[0] if checks else None
    context = {
        "checks": checks,
        "latest_check": latest,
        "passing_check_today": bool(
            latest and latest.passed and timezone.localdate(latest.at) == timezone.localdate()
        ),
        "amendments": list(session.amendments.select_related("by").order_by("at", "id")),
        "device_rows": device_settings_rows(session.device_settings),
    }
    if user.has_perm("plans.view_assessment"):
        context["assessments"] = list(session.assessments.select_related("rater").order_by("taken_on", "id"))
    if user.has_perm("plans.view_photo"):
        context["photos"] = list(session.photos.order_by("view", "id"))
    if user.has_perm("plans.view_adverseevent"):
        context["adverse_events"] = list(
            _with_open_flag(session.adverse_events.select_related("lot__product")).order_by("-onset_date", "-id")
        )
    return context


DEVICE_SETTING_LABELS = {
    "device_type": "Device type",
    "needle_count": "Cartridge needles",
    "depth_forehead_mm": "Needle depth, forehead (mm)",
    "depth_malar_mm": "Needle depth, malar (mm)",
    "depth_chin_mm": "Needle depth, chin (mm)",
    "needle_depth_mm": "Needle depth (mm)",
    "passes": "Passes",
    "direction": "Direction",
    "speed": "Pen speed",
    "endpoint": "Endpoint",
    "wavelength_nm": "Wavelength (nm)",
    "energy_mj": "Pulse energy (mJ)",
    "density_percent": "Density / coverage (%)",
    "tip": "Tip / spot size",
    "cooling": "Cooling",
    "total_energy_kj": "Total energy (kJ)",
    "electrode_type": "Electrode type",
    "frequency_mhz": "Frequency (MHz)",
    "power_level": "Power / energy level",
    "pulse_duration_ms": "Pulse duration (ms)",
    "pins": "Tip pins",
}


def device_settings_rows(settings_: dict) -> list[tuple[str, object]]:
    rows = []
    for key, value in (settings_ or {}).items():
        if key == "confirmed_warnings":
            continue
        if key == rules.ZONE_DEPTHS_FIELD and isinstance(value, dict):
            rows += [(f"Needle depth, {zone} (mm)", mm) for zone, mm in value.items()]
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        rows.append((DEVICE_SETTING_LABELS.get(key, key.replace("_", " ").capitalize()), value))
    return rows


def latest_lot_for(product_id: int | None, day: date) -> Lot | None:
    """The usable lot of the plan's product that expires first (use the oldest stock first)."""
    if not product_id:
        return None
    return (
        Lot.objects.filter(product_id=product_id, recalled_at__isnull=True, expiry_date__gte=day)
        .order_by("expiry_date", "id")
        .first()
    )


def lots_for_recording():
    # Every lot of an active product, usable first: recalled/expired lots stay selectable so the clinician
    # holding such a vial gets a clear refusal rather than a missing option.
    return Lot.objects.select_related("product").filter(product__is_active=True).order_by(
        "recalled_at", "-expiry_date", "product__name", "number"
    )


# --- assessments and the trend chart (§1.3, §9) -----------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT = 640, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 20, 16, 40


def _nice_top(value: Decimal) -> int:
    """The y-axis top: the next multiple of 4 above the largest score, at least 4."""
    top = 4
    while top < value:
        top += 4
    return top


def trend_chart(assessments: list[Assessment]) -> dict | None:
    """Geometry for a server-side SVG of MASI and mMASI over time with % change from baseline (S13, S20).

    Baseline is the first baseline assessment, else the first assessment. A change within rater noise
    (about 1 point, §1.3, S5) is flagged so nobody reads it as a response."""
    if not assessments:
        return None
    cfg = rule_config()
    baseline = next((a for a in assessments if a.kind == AssessmentKind.BASELINE), assessments[0])
    first_day, last_day = assessments[0].taken_on, assessments[-1].taken_on
    span = (last_day - first_day).days
    top = _nice_top(max(max(a.masi, a.mmasi) for a in assessments))
    plot_w = CHART_WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = CHART_HEIGHT - PAD_TOP - PAD_BOTTOM
    count = len(assessments)

    def x_for(index: int, day: date) -> float:
        if count == 1:
            return PAD_LEFT + plot_w / 2
        fraction = (day - first_day).days / span if span else index / (count - 1)
        return PAD_LEFT + plot_w * fraction

    def y_for(value: Decimal) -> float:
        return PAD_TOP + plot_h * (1 - float(value) / top)

    rows = []
    for index, a in enumerate(assessments):
        x = round(x_for(index, a.taken_on), 1)
        rows.append(
            {
                "assessment": a,
                "x": x,
                "masi_y": round(y_for(a.masi), 1),
                "mmasi_y": round(y_for(a.mmasi), 1),
                "masi_change": rules.percent_change(baseline.masi, a.masi),
                "mmasi_change": rules.percent_change(baseline.mmasi, a.mmasi),
                "mmasi_meaningful": rules.is_meaningful_change(baseline.mmasi, a.mmasi, cfg=cfg),
                "is_baseline": a.pk == baseline.pk,
            }
        )
    ticks = [
        {"value": top * step // 4, "y": round(y_for(Decimal(top * step) / 4), 1)} for step in range(0, 5)
    ]
    latest = rows[-1]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "plot_left": PAD_LEFT,
        "plot_right": CHART_WIDTH - PAD_RIGHT,
        "plot_bottom": PAD_TOP + plot_h,
        "label_y": CHART_HEIGHT - PAD_BOTTOM + 18,
        "legend_y": CHART_HEIGHT - 6,
        "ticks": ticks,
        "rows": rows,
        "masi_points": " ".join(f"{r['x']},{r['masi_y']}" for r in rows),
        "mmasi_points": " ".join(f"{r['x']},{r['mmasi_y']}" for r in rows),
        "baseline": baseline,
        "latest": latest,
    }


def plan_photo_pairs(plan) -> list[dict]:
    """Baseline (first) and latest photo per standard view for the plan's patient; one query."""
    photos = Photo.objects.filter(patient_id=plan.patient_id).filter(
        Q(session__isnull=True) | Q(session__plan_id=plan.pk)
    ).order_by("taken_on", "id")
    by_view: dict[str, list[Photo]] = {}
    for photo in photos:
        by_view.setdefault(photo.view, []).append(photo)
    pairs = []
    for view, label in PhotoView.choices:
        shots = by_view.get(view)
        if shots:
            pairs.append({"view": label, "baseline": shots[0], "latest": shots[-1] if len(shots) > 1 else None})
    return pairs


# --- panels on other areas' pages --------------------------------------------------------------------------


def _sessions_of(plan) -> list:
    """The plan's sessions with lot and performer: from the plan page's prefetch when there is one."""
    if "sessions" in getattr(plan, "_prefetched_objects_cache", {}):
        return sorted(plan.sessions.all(), key=lambda session: session.number)
    return list(plan.sessions.select_related("exosome_lot__product", "performed_by").order_by("number"))


def plan_panel(plan, user) -> dict | None:
    """Sessions (linked), trend chart, adverse events and photos of a plan: at most 4 queries."""
    if not user.has_perm("plans.view_treatmentsession"):
        return None
    context = {
        "plan": plan,
        "visit_sessions": _sessions_of(plan),
        "can_assess": user.has_perm("plans.add_assessment") and plan.state in ("active", "completed"),
        "can_add_photo": user.has_perm("plans.add_photo"),
        "can_record_ae": user.has_perm("plans.add_adverseevent"),
    }
    if user.has_perm("plans.view_assessment"):
        context["trend"] = trend_chart(list(Assessment.objects.filter(plan_id=plan.pk).order_by("taken_on", "id")))
        context["show_trend"] = True
    if user.has_perm("plans.view_adverseevent"):
        context["plan_adverse_events"] = _events_with_labels(
            plan.adverse_events.select_related("lot__product", "session"), "-is_open", "-onset_date", "-id"
        )
        context["show_adverse_events"] = True
    if user.has_perm("plans.view_photo"):
        context["photo_pairs"] = plan_photo_pairs(plan)
        context["show_photos"] = True
    return context


def patient_panel(patient, user) -> dict | None:
    """The patient's adverse events and a summary of their assessments: at most 2 queries."""
    context = {"patient": patient}
    if user.has_perm("plans.view_assessment"):
        # Only what the summary shows: the first and latest scores and how many there are.
        assessments = list(
            Assessment.objects.filter(patient_id=patient.pk).order_by("taken_on", "id").only("taken_on", "masi", "mmasi")
        )
        summary = None
        if assessments:
            first, last = assessments[0], assessments[-1]
            summary = {
                "count": len(assessments),
                "first": first,
                "last": last,
                "mmasi_change": rules.percent_change(first.mmasi, last.mmasi),
                "masi_change": rules.percent_change(first.masi, last.masi),
            }
        context["assessment_summary"] = summary
        context["show_assessments"] = True
    if user.has_perm("plans.view_adverseevent"):
        context["patient_adverse_events"] = _events_with_labels(
            AdverseEvent.objects.filter(patient_id=patient.pk).only("onset_date", "ae_type", "grade", "outcome", "reviewed_at"),
            "-is_open", "-onset_date", "-id",
        )
        context["show_adverse_events"] = True
    if len(context) == 1:
        return None
    return context


DASHBOARD_OPEN_AE_LIMIT = 10


def dashboard_open_adverse_events(user) -> dict | None:
    """Clinicians see the open adverse events (ongoing or not reviewed): 2 queries."""
    if not user.has_perm("plans.change_adverseevent"):
        return None
    open_events = AdverseEvent.objects.filter(OPEN_AE)
    return {
        "visits_open_adverse_events": list(
            _with_open_flag(open_events.select_related("patient")).order_by("reviewed_at", "-onset_date", "-id")[
                :DASHBOARD_OPEN_AE_LIMIT
            ]
        ),
        "visits_open_adverse_event_count": open_events.count(),
    }


register_plan_panel("plans/visits/includes/plan_panel.html", plan_panel)
register_patient_panel("plans/visits/includes/patient_panel.html", patient_panel)
register_panel("plans/visits/includes/dashboard_open_aes.html", dashboard_open_adverse_events)


# --- products and lots (§6) --------------------------------------------------------------------------------


def lots_list():
    return Lot.objects.select_related("product").annotate(use_count=Count("sessions")).order_by(
        "product__name", "expiry_date", "id"
    )


def products_list():
    return ExosomeProduct.objects.annotate(lot_count=Count("lots")).order_by("name")


def lot_where_used(lot_id: int) -> dict:
    """A lot with every session that received it, the patients, and the adverse events linked to it (S58)."""
    lot = get_object_or_404(Lot.objects.select_related("product"), pk=lot_id)
    sessions = list(
        lot.sessions.select_related("plan__patient", "performed_by")
        .order_by("performed_at", "id")
    )
    patients = list({s.plan.patient_id: s.plan.patient for s in sessions}.values())
    events = list(
        AdverseEvent.objects.filter(Q(lot=lot) | Q(session__exosome_lot=lot))
        .select_related("patient", "session")
        .distinct()
        .order_by("onset_date", "id")
    )
    return {"lot": lot, "sessions": sessions, "patients": patients, "lot_adverse_events": events}
