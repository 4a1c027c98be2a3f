"""Maintenance after the course: follow-ups against the end-of-course mMASI, the maintenance flag, the front
desk's recall list (due follow-ups, flagged patients, contact details, last reminder) and a maintenance course
planned from the flag with the template machinery."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from plans.selectors import maintenance as selectors
from tests.factories import ProtocolTemplateFactory
from tests.plans.outcomes_support import completed_courses

NOW = dt.datetime(2026, 11, 18, 11, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _course(clinician, last_session_days_ago, **scores):
    """One completed 1-session course whose only session was last_session_days_ago."""
    start = TODAY - dt.timedelta(days=last_session_days_ago)
    return completed_courses([{"sessions": 1, "baseline": 10, "end": 4, **scores}], rater=clinician, start=start)[0]


def test_relapsed_follow_up_flags_the_plan_page_and_offers_a_maintenance_course(clinician, clinician_client):
    template = ProtocolTemplateFactory(name="Maintenance RF microneedling", modality="microneedling", sessions=2)
    plan = _course(clinician, 100, fu1=6)  # 6 ≥ 50 % of 10 and up 2 points from 4
    body = clinician_client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert "After the course" in body and "Maintenance discussion" in body and "+2.0 (+50.0 %)" in body
    link = f'{reverse("plans:new", args=[plan.patient_id])}?template={template.pk}'
    assert link in body
    builder = clinician_client.get(link)
    assert builder.status_code == 200 and builder.context["form"].initial["sessions_planned"] == 2


@pytest.mark.parametrize(("fu1", "flagged"), [("5.0", False), ("5.1", True), ("4.5", False)])
def test_flag_boundary_rise_beyond_rater_noise(clinician, fu1, flagged):
    _course(clinician, 100, fu1=fu1)
    recalls = selectors.recall_list()
    assert any(r.maintenance_due for r in recalls) is flagged


@pytest.mark.parametrize(
    ("days_ago", "done", "month", "listed"),
    [
        (16, {}, 1, True),  # last session 2 Nov: 1-month follow-up 2 Dec = today + 14 days, the edge: listed
        (15, {}, None, False),  # 3 Dec: just outside
        (45, {"fu1": 3}, None, False),  # 1-month done; 3-month on 4 Jan 2027: not yet
        (200, {"fu1": 3, "fu3": 3}, 6, True),  # 6-month follow-up was due 2 Nov: overdue, listed
    ],
)
def test_recall_list_shows_follow_ups_due_within_two_weeks(clinician, days_ago, done, month, listed):
    plan = _course(clinician, days_ago, **done)
    recalls = selectors.recall_list()
    assert bool(recalls) is listed
    if listed:
        assert recalls[0].plan.pk == plan.pk and recalls[0].next_followup_month == month


def test_recall_page_has_contact_details_and_reaches_every_role(role_clients, clinician):
    plan = _course(clinician, 100, fu1=6)
    assert role_clients["anonymous"].get(reverse("plans:recalls")).status_code == 302
    for role in ("clinician", "front_desk", "manager"):
        response = role_clients[role].get(reverse("plans:recalls"))
        assert response.status_code == 200
    body = role_clients["front_desk"].get(reverse("plans:recalls")).content.decode()
    assert plan.patient.last_name in body and "Maintenance discussion" in body and "3-month follow-up due" in body


@pytest.mark.parametrize("courses", [3, 30])
def test_recall_list_query_count_is_flat(clinician, front_desk_client, django_assert_max_num_queries, courses):
    completed_courses([{"sessions": 1, "baseline": 10, "end": 4, "fu1": 6}] * courses, rater=clinician,
                      start=TODAY - dt.timedelta(days=100))
    with django_assert_max_num_queries(8):
        response = front_desk_client.get(reverse("plans:recalls"))
    assert len(response.context["recalls"]) == courses
