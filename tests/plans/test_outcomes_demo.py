"""The demo clinic makes every panel of the registry meaningful: rates (not suppressed) for every modality,
relapse, a lot flagged on its rate, reports due and overdue, and recalls including a maintenance flag."""

import datetime as dt

import pytest
import time_machine

from clinic.demo import build_demo
from plans.models import AdverseEvent, Lot, ProtocolTemplate
from plans.selectors import maintenance, outcomes, safety

pytestmark = pytest.mark.django_db


@time_machine.travel(dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC), tick=False)
def test_demo_registry_panels_have_something_to_show():
    ctx = build_demo()
    report = outcomes.outcomes_report(outcomes.course_scores())
    assert report["course_count"] >= 50
    assert all(not row["outcome"].suppressed for row in report["overall"])
    modality_rows = report["breakdowns"][0]["rows"]
    assert len(modality_rows) == 3 and all(not row["outcome"].suppressed for row in modality_rows)
    assert not report["relapse"]["suppressed"] and report["relapse"]["relapsed"] > 0
    assert len(report["response_chart"]["series"]) == 3

    flagged = [lot for lot in safety.lots_with_safety(Lot.objects.all()) if lot.signal.flagged]
    assert any("lower 95 % bound" in reason for lot in flagged for reason in lot.signal.reasons)

    today = ctx["today"]
    waiting = AdverseEvent.objects.filter(report_due_on__isnull=False, reported_at__isnull=True)
    assert waiting.filter(report_due_on__lt=today).exists() and waiting.filter(report_due_on__gte=today).exists()
    assert AdverseEvent.objects.filter(reported_at__isnull=False, reports__isnull=False).exists()

    recalls = maintenance.recall_list(today)
    assert any(r.maintenance_due for r in recalls) and any(r.next_followup_on for r in recalls)
    assert ProtocolTemplate.objects.filter(name__istartswith="maintenance").exists()
