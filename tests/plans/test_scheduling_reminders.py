"""Reminders: sent once whatever the number of runs, with the patient's own pre-session instructions and an
.ics attachment; patients without email (or consent) are listed to call."""

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from plans.models import ReminderLog
from plans.services import scheduling as svc
from tests.factories import AppointmentFactory, PatientFactory, PlanAdjunctFactory
from tests.plans.scheduling_support import active_plan

pytestmark = pytest.mark.django_db


def _session_appointment(patient=None, *, in_hours=30, adjuncts=(), hsv=False):
    plan = active_plan(patient=patient or PatientFactory(hsv_history=hsv))
    for agent, days in adjuncts:
        PlanAdjunctFactory(plan=plan, agent=agent, pause_days_before=days)
    start = (timezone.now() + dt.timedelta(hours=in_hours)).replace(second=0, microsecond=0)
    return AppointmentFactory(patient=plan.patient, plan=plan, session=plan.sessions.get(number=1), start=start)


def test_two_runs_send_one_email_with_the_patients_pauses_and_an_ics(settings):
    settings.REMINDER_DAYS_BEFORE = 2
    appointment = _session_appointment(adjuncts=[("hydroquinone", 5), ("tretinoin", 0), ("niacinamide", 0)], hsv=True)

    call_command("send_reminders", stdout=StringIO())
    call_command("send_reminders", stdout=StringIO())

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [appointment.patient.email]
    # The visit is 30 hours away: both pauses should already have started, so the reminder says so plainly
    # (issue 12) instead of giving a date in the past; tretinoin has the default pause (S35).
    assert "Hydroquinone should be stopped 5 days before your session, so it should already have been stopped" in message.body
    assert "Tretinoin should be stopped 7 days before your session" in message.body
    assert "we may need to move your visit" in message.body and "Stop Hydroquinone from" not in message.body
    assert "Niacinamide" not in message.body  # continues through the course
    assert "No sunbathing, sunbeds, tanning or self-tanner for 14 days" in message.body
    assert "antiviral" in message.body
    [(filename, content, mimetype)] = message.attachments
    assert filename == "appointment.ics" and mimetype == "text/calendar"
    [event] = Calendar.from_ical(content).walk("VEVENT")
    assert event.decoded("dtstart") == appointment.start
    assert "Hydroquinone" in str(event.get("description"))
    log = ReminderLog.objects.get(appointment=appointment)
    assert log.channel == "email" and log.recipient == appointment.patient.email


def test_no_antiviral_line_without_hsv_history_and_no_pauses_without_topicals():
    _session_appointment(hsv=False)
    svc.reminders_send()
    body = mail.outbox[0].body
    assert "antiviral" not in body and "Stop " not in body
    assert "No sunbathing" in body


def test_only_appointments_inside_the_reminder_window_are_sent(settings):
    settings.REMINDER_DAYS_BEFORE = 2
    soon = _session_appointment(in_hours=40)
    _session_appointment(in_hours=24 * 5)
    cancelled = _session_appointment(in_hours=10)
    cancelled.status = "cancelled"
    cancelled.save()

    run = svc.reminders_send()

    assert [log.appointment_id for log in run.emailed] == [soon.pk]
    assert len(mail.outbox) == 1


def test_patients_without_email_or_consent_are_listed_to_call(front_desk_client):
    no_email = _session_appointment(PatientFactory(email="", phone="+44 7700 900111"))
    no_consent = _session_appointment(PatientFactory(email_consent=False, phone="+44 7700 900222"), in_hours=20)
    out = StringIO()

    call_command("send_reminders", stdout=out)
    call_command("send_reminders", stdout=StringIO())

    assert mail.outbox == []
    text = out.getvalue()
    assert "Emailed 0 reminder(s)." in text and "To call (2):" in text
    assert no_email.patient.full_name in text and "+44 7700 900111" in text
    assert set(ReminderLog.objects.values_list("channel", flat=True)) == {"phone"}
    assert ReminderLog.objects.count() == 2
    page = front_desk_client.get(reverse("plans:schedule_reminders")).content.decode()
    assert no_email.patient.full_name in page and no_consent.patient.full_name in page


def test_a_failed_send_is_not_logged_so_the_next_run_retries(monkeypatch):
    appointment = _session_appointment()

    def broken(self, *args, **kwargs):
        raise ConnectionError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    with pytest.raises(ConnectionError):
        svc.reminders_send()
    assert not ReminderLog.objects.filter(appointment=appointment).exists()
    monkeypatch.undo()
    svc.reminders_send()
    assert len(mail.outbox) == 1
