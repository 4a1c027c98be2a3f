"""The front desk books a whole course from the patient page, then checks the patient in on the day view
(issue 5)."""


import pytest
from django.utils import timezone

from plans.models import Appointment, AppointmentStatus
from tests.browser.conftest import login, shot
from tests.factories import PatientFactory, UserFactory
from tests.plans.scheduling_support import active_plan, clinic
from tests.clock import clinic_time

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_front_desk_books_a_whole_course_and_checks_the_patient_in(page, time_machine):
    # Today at 10:00 in the clinic, ticking on (the live server shares the moved clock), so the first session
    # still fits today and can be checked in whatever the hour the suite runs at.
    time_machine.move_to(clinic_time(timezone.localdate().isoformat(), "10:00"))
    UserFactory(username="frontdesk", role="front_desk", password="demo-clinic")
    clinician = UserFactory(username="drhart", role="clinician", first_name="Amelia", last_name="Hart")
    clinic(clinician, weekdays=range(7), start="00:00", end="23:59")
    from plans.models import AppointmentLength

    AppointmentLength.objects.filter(kind="microneedling").update(minutes=15)
    patient = PatientFactory(first_name="Leila", last_name="Haddad")
    plan = active_plan(start=timezone.localdate().isoformat(), sessions=3, clinician=clinician, patient=patient)

    login(page, "frontdesk")
    page.goto(patient.get_absolute_url())
    page.get_by_role("link", name="Book whole course (Microneedling)").click()
    page.get_by_role("heading", name="Book the course for Leila Haddad").wait_for()
    assert page.get_by_role("row", name="Session 1").count() == 1
    assert page.get_by_role("row", name="Follow-up at 6 months").count() == 1
    shot(page, "scheduling-01-proposed-course")

    page.get_by_role("button", name="Confirm bookings").click()
    page.get_by_text("Booked 6 appointments for Leila Haddad").wait_for()
    shot(page, "scheduling-02-course-booked")
    assert Appointment.objects.filter(plan=plan).count() == 6

    page.get_by_role("link", name="Schedule", exact=True).click()
    page.get_by_role("heading", name="Schedule").wait_for()
    shot(page, "scheduling-03-day-view")
    page.get_by_role("button", name="Check in Leila Haddad").click()
    page.get_by_text("Leila Haddad is checked in.").wait_for()
    shot(page, "scheduling-04-checked-in")

    first = Appointment.objects.get(session__plan=plan, session__number=1)
    assert first.status == AppointmentStatus.CHECKED_IN and first.checked_in_at is not None

    page.get_by_role("link", name="Day sheet").click()
    page.get_by_role("heading", name="day sheet").wait_for()
    assert "Leila Haddad" in page.content()
    shot(page, "scheduling-05-day-sheet")



