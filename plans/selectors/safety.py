"""Product and lot safety (§6: S58, S59, S60): adverse-event rate per lot by grade with 95 % intervals, and
the lot signal (plans.rules.outcomes.lot_signal). Two queries whatever the number of lots, sessions and events:
one row of counts per lot and one per product, both counted in the database."""

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from clinic.selectors import register_panel
from plans import rules
from plans.rules import outcomes as rules_outcomes
from plans.config import outcome_config
from plans.models import AdverseEvent, Lot, SessionStatus, TreatmentSession

# Grades shown per lot: any, grade ≥ 2, and serious (serious, or grade ≥ 3 as rules.ae_is_reportable decides).
SERIOUS_Q = Q(serious=True) | Q(grade__gte=rules.REPORTABLE_FROM_GRADE)
GRADE_FILTERS = {"any": Q(), "grade2": Q(grade__gte=2), "serious": SERIOUS_Q}
GRADE_LABELS = {"any": "Any grade", "grade2": "Grade ≥ 2", "serious": "Serious / grade ≥ 3"}


def _count(queryset, group_field: str):
    return Coalesce(
        Subquery(queryset.order_by().values(group_field).annotate(n=Count("id")).values("n"), output_field=IntegerField()),
        Value(0),
    )


def _counted_lots(lots):
    used = TreatmentSession.objects.filter(exosome_lot=OuterRef("pk"), status=SessionStatus.COMPLETED)
    events = AdverseEvent.objects.filter(lot=OuterRef("pk"))
    return lots.annotate(
        sessions_used=_count(used, "exosome_lot"),
        **{f"ae_{key}": _count(events.filter(condition), "lot") for key, condition in GRADE_FILTERS.items()},
    )


def _product_totals(product_ids) -> dict[int, dict]:
    """{product_id: {"sessions": n, "ae_any": n}} over all of a product's lots; one query."""
    rows = _counted_lots(Lot.objects.filter(product_id__in=list(product_ids))).values_list(
        "product_id", "sessions_used", "ae_any"
    )
    totals: dict[int, dict] = {}
    for product_id, sessions, events in rows:
        total = totals.setdefault(product_id, {"sessions": 0, "ae_any": 0})
        total["sessions"] += sessions
        total["ae_any"] += events
    return totals


def _attach_safety(lots: list, totals: dict, cfg) -> list:
    for lot in lots:
        total = totals.get(lot.product_id, {"sessions": 0, "ae_any": 0})
        lot.rates = {
            key: rules_outcomes.event_rate(getattr(lot, f"ae_{key}"), lot.sessions_used, cfg.confidence_z)
            for key in GRADE_FILTERS
        }
        lot.rate_rows = [{"label": GRADE_LABELS[key], "events": getattr(lot, f"ae_{key}"), "rate": lot.rates[key]}
                         for key in GRADE_FILTERS]
        lot.signal = rules_outcomes.lot_signal(  # S58, S59, S60
            events=lot.ae_any, sessions=lot.sessions_used, serious_events=lot.ae_serious,
            other_events=total["ae_any"] - lot.ae_any, other_sessions=total["sessions"] - lot.sessions_used, cfg=cfg,
        )
    return lots


def lots_with_safety(lots) -> list:
    """The given lots (a queryset, e.g. one page) with .rates, .rate_rows and .signal; two queries."""
    lots = list(_counted_lots(lots.select_related("product")))
    return _attach_safety(lots, _product_totals({lot.product_id for lot in lots}), outcome_config())


def lots_with_safety_in_order(lots: list) -> list:
    """Already-fetched lots (a page), in their order, with the safety figures; two queries."""
    by_id = {lot.pk: lot for lot in lots_with_safety(Lot.objects.filter(pk__in=[lot.pk for lot in lots]))}
    for lot in lots:
        counted = by_id[lot.pk]
        for name in ("sessions_used", *[f"ae_{key}" for key in GRADE_FILTERS], "rates", "rate_rows", "signal"):
            setattr(lot, name, getattr(counted, name))
    return lots


def lot_safety(lot_id: int):
    return lots_with_safety(Lot.objects.filter(pk=lot_id))[0]


def products_with_safety(products: list) -> list:
    """Each product's AE rate over all its lots, by grade; one query."""
    cfg = outcome_config()
    rows = _counted_lots(Lot.objects.filter(product__in=products)).values_list(
        "product_id", "sessions_used", *[f"ae_{key}" for key in GRADE_FILTERS]
    )
    sums: dict[int, list[int]] = {}
    for product_id, *counts in rows:
        current = sums.setdefault(product_id, [0] * len(counts))
        sums[product_id] = [a + b for a, b in zip(current, counts, strict=True)]
    for product in products:
        sessions, *events = sums.get(product.pk, [0] * (1 + len(GRADE_FILTERS)))
        product.sessions_used = sessions
        product.rate_rows = [
            {"label": GRADE_LABELS[key], "events": n, "rate": rules_outcomes.event_rate(n, sessions, cfg.confidence_z)}
            for key, n in zip(GRADE_FILTERS, events, strict=True)
        ]
    return products


DASHBOARD_FLAGGED_LIMIT = 10


def dashboard_flagged_lots(user) -> dict | None:
    """Lots with a safety signal, for whoever looks after lots (clinicians and managers): two queries."""
    if not user.has_perm("plans.view_lot"):
        return None
    flagged = [lot for lot in lots_with_safety(Lot.objects.all()) if lot.signal.flagged]
    if not flagged:
        return None
    return {"flagged_lots": flagged[:DASHBOARD_FLAGGED_LIMIT], "flagged_lot_count": len(flagged)}


register_panel("plans/safety/includes/dashboard_flagged_lots.html", dashboard_flagged_lots)
