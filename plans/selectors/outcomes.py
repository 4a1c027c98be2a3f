"""The outcomes page: what the clinic's completed courses achieved, for whom, with the uncertainty shown.

One query: every completed course with a baseline score comes back as one row of numbers and group keys,
each score picked by a correlated subquery in the database (no patient identifier leaves the database for this
page). The group statistics (responder rates with Wilson intervals, medians, relapse) are plans.rules.outcomes
over those rows; medians and quartiles are computed there because SQLite has no percentile function."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery

from clinic.selectors import register_panel

from plans import rules
from plans.rules import outcomes as outcome_rules
from plans.config import outcome_config
from plans.models import Assessment, AssessmentKind, Plan, PlanAdjunct, PlanState, SessionStatus, TreatmentSession

TIMEPOINTS = [("end", "End of course"), ("fu1", "1 month after"), ("fu3", "3 months after"), ("fu6", "6 months after")]
TIMEPOINT_LABELS = dict(TIMEPOINTS)
FOLLOWUP_FIELD = {1: "fu1", 3: "fu3", 6: "fu6"}

HYDROQUINONE_AGENTS = [rules.HYDROQUINONE, rules.TRIPLE_COMBINATION]  # TC contains HQ 4 % (S36)
FITZPATRICK_GROUPS = {"I–III": (1, 2, 3), "IV–VI": (4, 5, 6)}  # types IV–VI carry the highest PIH risk (S73)


@dataclass(frozen=True)
class CourseScores:
    """One completed course, as numbers and group keys only."""

    modality: str
    product: str
    fitzpatrick: int | None
    hydroquinone: bool
    oral_txa: bool
    sessions_done: int
    baseline: object
    baseline_masi: object
    end: object
    end_masi: object
    fu1: object
    fu3: object
    fu6: object
    changes: dict  # time point -> % change from baseline (None: not scored), computed once
    relapsed: bool | None  # responded at the end and relapsed at any follow-up (None: not eligible)


def _first_score(queryset, field="mmasi", newest=False):
    order = ("-taken_on", "-id") if newest else ("taken_on", "id")
    return Subquery(queryset.order_by(*order).values(field)[:1])


def course_scores(*, started_from: date | None = None, started_to: date | None = None) -> list[CourseScores]:
    """Completed courses with a baseline mMASI, started in the period; one query whatever the data size."""
    of_plan = Assessment.objects.filter(plan=OuterRef("pk"))
    baseline = of_plan.filter(kind=AssessmentKind.BASELINE)
    # End of course: the latest score during the course (not baseline, not a tagged follow-up).
    during = of_plan.exclude(kind=AssessmentKind.BASELINE).filter(followup_month__isnull=True)
    done = (
        TreatmentSession.objects.filter(plan=OuterRef("pk"), status=SessionStatus.COMPLETED)
        .order_by().values("plan").annotate(n=Count("id")).values("n")
    )
    plans = Plan.objects.filter(state=PlanState.COMPLETED)
    if started_from:
        plans = plans.filter(start_date__gte=started_from)
    if started_to:
        plans = plans.filter(start_date__lte=started_to)
    rows = (
        plans.annotate(
            baseline_mmasi=_first_score(baseline),
            baseline_masi_score=_first_score(baseline, "masi"),
            end_mmasi=_first_score(during, newest=True),
            end_masi_score=_first_score(during, "masi", newest=True),
            **{
                f"{name}_mmasi": _first_score(of_plan.filter(kind=AssessmentKind.FOLLOW_UP, followup_month=month))
                for month, name in FOLLOWUP_FIELD.items()
            },
            sessions_done=Subquery(done, output_field=IntegerField()),
            uses_hq=Exists(PlanAdjunct.objects.filter(plan=OuterRef("pk"), agent__in=HYDROQUINONE_AGENTS)),
            uses_oral_txa=Exists(PlanAdjunct.objects.filter(plan=OuterRef("pk"), agent=rules.TXA_ORAL)),
        )
        .filter(baseline_mmasi__isnull=False)
        .order_by()
        .values_list(
            "modality", "exosome_product__name", "patient__fitzpatrick_type", "uses_hq", "uses_oral_txa",
            "sessions_done", "baseline_mmasi", "baseline_masi_score", "end_mmasi", "end_masi_score",
            "fu1_mmasi", "fu3_mmasi", "fu6_mmasi",
        )
    )
    cfg = outcome_config()
    return [_course(r, cfg) for r in rows]


def _course(r, cfg) -> CourseScores:
    baseline, end, followups = r[6], r[8], {"fu1": r[10], "fu3": r[11], "fu6": r[12]}
    verdicts = [outcome_rules.is_relapse(baseline, end, score, cfg) for score in followups.values()]
    verdicts = [v for v in verdicts if v is not None]
    return CourseScores(
        modality=r[0], product=r[1] or "No exosome product", fitzpatrick=r[2], hydroquinone=bool(r[3]),
        oral_txa=bool(r[4]), sessions_done=r[5] or 0, baseline=baseline, baseline_masi=r[7], end=end,
        end_masi=r[9], **followups,
        changes={
            tp: outcome_rules.change_from_baseline(baseline, score)
            for tp, score in {"end": end, **followups}.items()
        },
        relapsed=any(verdicts) if verdicts else None,
    )


# --- grouping -------------------------------------------------------------------------------------------------


def _fitzpatrick_group(value: int | None) -> str:
    for label, types in FITZPATRICK_GROUPS.items():
        if value in types:
            return label
    return "Not recorded"


BREAKDOWNS = [
    ("modality", "Modality", lambda c: dict(rules.MODALITY_CHOICES).get(c.modality, c.modality)),
    ("product", "Exosome product", lambda c: c.product),
    ("fitzpatrick", "Fitzpatrick group", lambda c: _fitzpatrick_group(c.fitzpatrick)),
    ("hydroquinone", "Hydroquinone (incl. triple combination)", lambda c: "With" if c.hydroquinone else "Without"),
    ("oral_txa", "Oral tranexamic acid", lambda c: "With" if c.oral_txa else "Without"),
    ("sessions", "Sessions performed", lambda c: str(c.sessions_done)),
]


def _group_order(item):
    name = item[0]
    fitz = list(FITZPATRICK_GROUPS).index(name) if name in FITZPATRICK_GROUPS else 0
    return name == "Not recorded", fitz, name


def _outcome(courses: list[CourseScores], timepoint: str, cfg) -> outcome_rules.GroupOutcome:
    return outcome_rules.group_outcome([c.changes[timepoint] for c in courses], len(courses), cfg)


def _relapse(courses: list[CourseScores], cfg) -> dict:
    """Among courses responding at the end with at least one follow-up score: relapsed at any follow-up."""
    verdicts = [c.relapsed for c in courses if c.relapsed is not None]
    eligible, relapsed = len(verdicts), sum(verdicts)
    suppressed = eligible < cfg.min_group_size
    return {
        "eligible": eligible, "relapsed": relapsed, "suppressed": suppressed,
        "rate": None if suppressed else outcome_rules.proportion(relapsed, eligible, cfg.confidence_z),
    }


def _change_quartiles(courses: list[CourseScores], timepoint: str):
    changes = [c.changes[timepoint] for c in courses]
    return outcome_rules.quartiles([v for v in changes if v is not None]), sum(1 for v in changes if v is not None)


def outcomes_report(courses: list[CourseScores], cfg=None) -> dict:
    cfg = cfg or outcome_config()
    overall = [
        {"key": key, "label": label, "outcome": _outcome(courses, key, cfg)} for key, label in TIMEPOINTS
    ]
    masi_changes = [outcome_rules.change_from_baseline(c.baseline_masi, c.end_masi) for c in courses]
    masi_changes = [v for v in masi_changes if v is not None]
    breakdowns = []
    for key, label, group_of in BREAKDOWNS:
        groups = defaultdict(list)
        for course in courses:
            groups[group_of(course)].append(course)
        breakdowns.append({
            "key": key,
            "label": label,
            "rows": [
                {"group": name, "outcome": _outcome(members, "end", cfg), "relapse": _relapse(members, cfg)}
                for name, members in sorted(groups.items(), key=_group_order)
            ],
        })
    return {
        "cfg": cfg,
        "course_count": len(courses),
        "overall": overall,
        "masi_end_median": outcome_rules.median(masi_changes) if len(masi_changes) >= cfg.min_group_size else None,
        "masi_end_count": len(masi_changes),
        "relapse": _relapse(courses, cfg),
        "breakdowns": breakdowns,
        "response_chart": response_chart(courses, cfg),
        "forest_chart": forest_chart(breakdowns),
    }


# --- charts (server-rendered SVG: prints, needs no JavaScript) ---------------------------------------------------

CHART_W, CHART_H = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 52, 190, 16, 40
CHART_Y_MIN, CHART_Y_MAX = -100, 40  # % change from baseline; improvement is negative
MODALITY_COLOURS = {rules.MICRONEEDLING: "#0d6efd", rules.NAFL: "#d63384", rules.RF_MICRONEEDLING: "#198754"}


def response_chart(courses: list[CourseScores], cfg) -> dict:
    """Median % change in mMASI from baseline at each time point per modality, with the interquartile band."""
    points = [("baseline", "Baseline")] + TIMEPOINTS
    plot_w, plot_h = CHART_W - LEFT - RIGHT, CHART_H - TOP - BOTTOM

    def x_at(index):
        return round(LEFT + plot_w * index / (len(points) - 1), 1)

    def y_at(value):
        clamped = max(CHART_Y_MIN, min(CHART_Y_MAX, value))
        return round(TOP + plot_h * (CHART_Y_MAX - clamped) / (CHART_Y_MAX - CHART_Y_MIN), 1)

    series = []
    for modality, label in rules.MODALITY_CHOICES:
        members = [c for c in courses if c.modality == modality]
        if not members:
            continue
        stats = [(0, (0.0, 0.0, 0.0), len(members))]
        for index, (key, _) in enumerate(TIMEPOINTS, start=1):
            q, n = _change_quartiles(members, key)
            if q is not None and n >= cfg.min_group_size:
                stats.append((index, q, n))
        if len(stats) < 2:
            continue
        upper = [f"{x_at(i)},{y_at(q[2])}" for i, q, _ in stats]
        lower = [f"{x_at(i)},{y_at(q[0])}" for i, q, _ in reversed(stats)]
        series.append({
            "label": label,
            "colour": MODALITY_COLOURS.get(modality, "#6c757d"),
            "median_points": " ".join(f"{x_at(i)},{y_at(q[1])}" for i, q, _ in stats),
            "band_points": " ".join(upper + lower),
            "dots": [{"x": x_at(i), "y": y_at(q[1]), "median": round(q[1], 1), "n": n} for i, q, n in stats],
            "legend_y": TOP + 14 + 18 * len(series),
        })
    ticks = [{"value": v, "y": y_at(v)} for v in range(CHART_Y_MIN, CHART_Y_MAX + 1, 20)]
    return {
        "width": CHART_W, "height": CHART_H, "left": LEFT, "right": CHART_W - RIGHT, "top": TOP,
        "bottom": CHART_H - BOTTOM, "zero_y": y_at(0), "ticks": ticks,
        "labels": [{"x": x_at(i), "text": label} for i, (_, label) in enumerate(points)],
        "label_y": CHART_H - BOTTOM + 18, "legend_x": CHART_W - RIGHT + 12, "series": series,
    }


FOREST_ROW_H, FOREST_LEFT, FOREST_W, FOREST_RIGHT = 22, 260, 640, 70


def forest_chart(breakdowns: list[dict]) -> dict:
    """Responder rate at the end of course with its 95 % interval for each group large enough to show one."""
    rows, y = [], 28
    plot_w = FOREST_W - FOREST_LEFT - FOREST_RIGHT

    def x_at(fraction):
        return round(FOREST_LEFT + plot_w * fraction, 1)

    for breakdown in breakdowns:
        shown = [r for r in breakdown["rows"] if not r["outcome"].suppressed]
        if not shown:
            continue
        rows.append({"heading": breakdown["label"], "y": y})
        y += FOREST_ROW_H
        for row in shown:
            rate = row["outcome"].responder_rate
            rows.append({
                "label": f"{row['group']} (n={rate.n})", "y": y, "box_x": round(x_at(rate.rate) - 4, 1),
                "box_y": y - 4, "low": x_at(rate.low),
                "high": x_at(rate.high), "text": f"{rate.percent:.0f} %",
            })
            y += FOREST_ROW_H
    return {
        "width": FOREST_W, "height": y + 10, "left": FOREST_LEFT, "right": FOREST_W - FOREST_RIGHT,
        "rows": rows, "axis": [{"x": x_at(f / 100), "text": f"{f} %"} for f in range(0, 101, 25)],
        "text_x": FOREST_W - FOREST_RIGHT + 8,
    }


def outcomes_csv_rows(report: dict) -> list[list]:
    """The aggregated table only: one row per time point and per group, never a patient."""
    header = ["section", "group", "time point", "courses", "scored", "responders", "responder rate %",
              "95% CI low %", "95% CI high %", "median % change", "relapse eligible", "relapsed", "relapse rate %",
              "relapse 95% CI low %", "relapse 95% CI high %"]
    out = [header]

    def pct(value):
        return "" if value is None else f"{value * 100:.1f}"

    def line(section, group, label, outcome, relapse=None):
        rate = outcome.responder_rate
        relapse_rate = relapse["rate"] if relapse else None
        out.append([
            section, group, label, outcome.courses, outcome.scored, outcome.responders,
            pct(rate.rate) if rate else "", pct(rate.low) if rate else "", pct(rate.high) if rate else "",
            "" if outcome.median_change is None else f"{outcome.median_change:.1f}",
            relapse["eligible"] if relapse else "", relapse["relapsed"] if relapse else "",
            pct(relapse_rate.rate) if relapse_rate else "", pct(relapse_rate.low) if relapse_rate else "",
            pct(relapse_rate.high) if relapse_rate else "",
        ])

    for row in report["overall"]:
        line("All courses", "All", row["label"], row["outcome"], report["relapse"] if row["key"] == "end" else None)
    for breakdown in report["breakdowns"]:
        for row in breakdown["rows"]:
            line(breakdown["label"], row["group"], TIMEPOINT_LABELS["end"], row["outcome"], row["relapse"])
    return out


# --- dashboard ---------------------------------------------------------------------------------------------------


def dashboard_registry(user) -> dict | None:
    """The link to the outcomes page on the clinician's and manager's dashboards (no query)."""
    if not user.has_perm("plans.view_outcomes"):
        return None
    return {"outcomes_link": True}


register_panel("plans/outcomes/includes/dashboard_registry.html", dashboard_registry)
