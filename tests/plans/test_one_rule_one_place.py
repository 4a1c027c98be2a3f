"""Issue 12 §5: session windows and "may we email this patient" are each one rule that every page and
service calls. The pure rules are tested here, and the two selectors that show windows are shown to agree."""

import datetime as dt

import pytest
from django.utils import timezone

from plans import rules
from plans.rules import RuleConfig
from plans.models import Appointment
from plans.selectors import course as course_selectors
from plans.selectors import scheduling as scheduling_selectors
from tests.factories import AppointmentFactory, PatientFactory
from tests.plans.scheduling_support import active_plan, aware

START = dt.date(2030, 1, 7)


@pytest.mark.parametrize(
    "before, after, target, earliest, latest",
    [(3, 7, START, dt.date(2030, 1, 4), dt.date(2030, 1, 14)), (0, 0, START, START, START)],
)
def test_window_around_a_target(before, after, target, earliest, latest):
    cfg = RuleConfig(window_before_days=before, window_after_days=after)
    assert rules.window_around(2, target, cfg) == rules.Window(2, target, earliest, latest)


def test_a_plans_own_window_and_followups_win_over_the_clinic_defaults():
    clinic = RuleConfig(window_before_days=3, window_after_days=7, followup_months=(1, 3, 6))
    cfg = rules.plan_rule_config(clinic, window_before_days=1, window_after_days=2, followup_months=[2])
    assert (cfg.window_before_days, cfg.window_after_days, cfg.followup_months) == (1, 2, (2,))
    # Cleared follow-ups mean none; None keeps the clinic's.
    assert rules.plan_rule_config(clinic, window_before_days=3, window_after_days=7, followup_months=[]).followup_months == ()
    assert rules.plan_rule_config(clinic, window_before_days=3, window_after_days=7).followup_months == (1, 3, 6)


def test_course_schedule_counts_followups_from_the_last_session_as_performed_or_booked():
    cfg = RuleConfig(followup_months=(1, 3))
    plain = rules.course_schedule(START, 2, 28, cfg=cfg)
    assert [w.target for w in plain.windows] == [START, START + dt.timedelta(days=28)]
    assert plain.followups == [dt.date(2030, 3, 4), dt.date(2030, 5, 4)]
    late = rules.course_schedule(START, 2, 28, performed={1: START}, booked={2: dt.date(2030, 2, 10)}, cfg=cfg)
    assert late.last_session_on == dt.date(2030, 2, 10)
    assert late.followups == [dt.date(2030, 3, 10), dt.date(2030, 5, 10)]


@pytest.mark.parametrize(
    "email, consent, refusal",
    [
        ("a@example.com", True, None),
        ("a@example.com", False, rules.EMAIL_NO_CONSENT),
        ("", True, rules.EMAIL_NO_ADDRESS),
        ("   ", True, rules.EMAIL_NO_ADDRESS),
        (None, False, rules.EMAIL_NO_ADDRESS),
    ],
)
def test_may_we_email_this_patient(email, consent, refusal):
    assert rules.email_refusal(email, consent) == refusal
    assert rules.may_email(email, consent) is (refusal is None)


@pytest.mark.django_db
def test_patient_may_email_is_the_rule():
    assert PatientFactory.build(email="a@example.com", email_consent=True).may_email
    assert not PatientFactory.build(email="", email_consent=True).may_email
    assert not PatientFactory.build(email="a@example.com", email_consent=False).may_email


@pytest.mark.django_db
def test_plan_page_and_desk_show_the_same_windows_and_followups(time_machine):
    time_machine.move_to(aware("2029-12-20", "10:00"), tick=False)
    plan = active_plan(window_before_days=2, window_after_days=5)
    plan.followup_months = [2]
    plan.save()
    session_2 = plan.sessions.get(number=2)
    AppointmentFactory(plan=plan, patient=plan.patient, session=session_2, start=aware("2030-02-08", "11:00"))
    plan = course_selectors.plan_for_page(plan.pk)

    timeline = course_selectors.plan_timeline(plan, timezone.localdate())
    page_windows = [row["window"] for row in timeline["rows"]]
    assert (page_windows[1].earliest, page_windows[1].latest) == (dt.date(2030, 2, 2), dt.date(2030, 2, 9))
    # Session 2 booked on 8 Feb: session 3 follows from it; one follow-up, 2 months after the last session.
    assert page_windows[2].target == dt.date(2030, 3, 8)
    assert timeline["followups"] == [rules.add_months(page_windows[-1].target, 2)]

    desk_rows = scheduling_selectors.windows_for(
        plan, list(plan.sessions.all()), list(Appointment.objects.filter(plan=plan))
    )
    assert [row.window for row in desk_rows] == page_windows
