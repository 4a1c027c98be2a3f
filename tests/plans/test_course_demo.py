"""The demo clinic's course step: products, lots and plans in every state, the same on every run."""

import pytest

from plans import rules
from plans.models import Consent, ConsentKind, Plan, PlanState
from plans.selectors.course import consent_status, plan_for_page, plan_timeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(monkeypatch):
    from clinic import demo

    monkeypatch.setattr(demo, "AREA_STEPS", ["plans.demo.course"])
    return demo.build_demo()


def test_demo_course_step(demo):
    _plans_in_every_state(demo)
    _active_and_completed_plans_are_consented_and_approved(demo)
    _active_plans_straddle_today(demo)
    _drafts_show_findings(demo)


def _plans_in_every_state(demo):
    by_state = demo["plans_by_state"]
    assert {state for state, plans in by_state.items() if plans} == set(PlanState.values)
    assert len(by_state["active"]) >= 5
    assert all(plan.stop_reason for plan in by_state["stopped"])
    assert all(plan.ended_at for plan in by_state["completed"] + by_state["stopped"])
    assert len(demo["products"]) == 3
    today = demo["today"]
    assert any(lot.expiry_date < today for lot in demo["lots"]) and any(lot.recalled_at for lot in demo["lots"])


def _active_and_completed_plans_are_consented_and_approved(demo):
    for plan in Plan.objects.filter(state__in=["active", "completed"]):
        plan = plan_for_page(plan.pk)
        assert consent_status(plan)["complete"] and plan.approved_by and plan.activated_at
    assert Consent.objects.filter(text__kind=ConsentKind.EXOSOME).exists()


def _active_plans_straddle_today(demo):
    today = demo["today"]
    for plan in demo["plans_by_state"]["active"]:
        targets = [row["window"].target for row in plan_timeline(plan_for_page(plan.pk), today)["rows"]]
        assert targets[0] <= today < targets[-1]


def _drafts_show_findings(demo):
    drafts = demo["plans_by_state"]["draft"]
    from plans.selectors.course import plan_findings

    assert any(f.blocks_activation for plan in drafts for f in plan_findings(plan_for_page(plan.pk), demo["today"]))
    assert rules.DEFAULT_PAUSE_DAYS  # templates' adjuncts use the default pauses
