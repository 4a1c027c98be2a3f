"""Issue 12: the front desk moves session 2 by a week and the later sessions follow, in one action, and lands
on the day of the new slot. The server's clock is set (time_machine), every date built from it."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from plans.models import Appointment
from plans.selectors import scheduling as sel
from plans.services import scheduling as svc
from tests.browser.conftest import login, shot
from tests.factories import PatientFactory, UserFactory
from tests.plans.scheduling_support import active_plan, aware, clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NOW = aware("2030-01-06", "12:00")


def test_front_desk_moves_session_two_by_a_week_and_the_later_sessions_follow(page):
    with time_machine.travel(NOW, tick=True):
        desk = UserFactory(username="frontdesk", role="front_desk", password="demo-clinic")
        clinician = UserFactory(username="drhart", role="clinician", first_name="Amelia", last_name="Hart")
        clinic(clinician, weekdays=range(7), start="08:00", end="18:00")
        patient = PatientFactory(first_name="Leila", last_name="Haddad")
        plan = active_plan(start=NOW.date().isoformat(), sessions=4, clinician=clinician, patient=patient)
        slots = [svc.Slot(p.kind, p.start, p.room, p.clinician, device=p.device, session=p.session, label=p.label)
                 for p in sel.propose_course(plan) if p.session is not None]
        booked = svc.course_book(plan=plan, slots=slots, by=desk)
        session2 = booked[1]
        old_day = sel.local_date(session2.start)
        new_day = old_day + dt.timedelta(days=7)

        login(page, "frontdesk")
        page.goto(f"/schedule/?date={old_day:%Y-%m-%d}")
        page.locator(f"#appointment-{session2.pk}").get_by_role("link", name="Move").click()
        page.get_by_label("Date").fill(new_day.isoformat())
        later = page.get_by_label("Also move the 2 later sessions of this course by the same offset")
        assert later.is_checked()
        page.get_by_role("button", name="Move appointment").click()
        page.get_by_role("heading", name="Move session 2 and the later sessions").wait_for()
        assert page.locator("tr.cascade-row").count() == 2
        shot(page, "cascade-01-proposed")
        assert Appointment.objects.get(pk=session2.pk).start == session2.start  # nothing moved yet

        page.get_by_role("button", name="Move session 2 and the ticked sessions").click()
        page.get_by_text("Moved to").wait_for()
        shot(page, "cascade-02-moved")
        assert f"date={new_day:%Y-%m-%d}" in page.url  # the day of the new slot, not the old one
        assert page.get_by_text("Leila Haddad").count() >= 1

        after = {a.session.number: a.start for a in Appointment.objects.filter(plan=plan).select_related("session")}
        week = dt.timedelta(days=7)
        assert after == {1: booked[0].start, 2: booked[1].start + week, 3: booked[2].start + week,
                         4: booked[3].start + week}
        assert not any(row.outside_window for row in sel.plan_schedule(plan)["session_rows"])
        assert timezone.localtime(after[2]).date() == new_day
