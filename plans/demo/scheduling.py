"""Demo clinic, scheduling step: rooms, devices, working hours, appointment lengths, and bookings around today
for the active plans (ctx["plans"] from the course step, else a few made here).

Today: three patients (two checked in), yesterday a no-show, tomorrow a late cancellation; past performed
sessions get their completed appointment; every active course is then booked through the same proposal and
booking services the desk uses, so the coming weeks fill with sessions and follow-ups.
"""

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from plans.models import (
    LIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentLength,
    AppointmentStatus,
    ClinicianHours,
    Device,
    ReminderLog,
    Room,
    SessionStatus,
)
from plans import rules
from plans.selectors import scheduling as selectors
from plans.selectors.course import plan_config
from plans.services import scheduling as services

ROOMS = ["Treatment room 1", "Treatment room 2", "Consultation room"]
DEVICES = [
    ("Dermapen 4 (A)", ["microneedling"]),
    ("Dermapen 4 (B)", ["microneedling"]),
    ("LaseMD Ultra 1927 nm", ["nafl"]),
    ("Secret RF", ["rf_microneedling"]),
]
LENGTHS = {"microneedling": 60, "nafl": 45, "rf_microneedling": 60, "follow_up": 30, "consultation": 30}


def seed(ctx: dict) -> None:
    today, staff = ctx["today"], ctx["staff"]
    rooms = [Room.objects.get_or_create(name=name)[0] for name in ROOMS]
    devices = [Device.objects.get_or_create(name=name, defaults={"modalities": m})[0] for name, m in DEVICES]
    clinicians = [staff["clinician"], staff["clinician2"]]
    for weekday in range(5):
        for clinician in clinicians:
            ClinicianHours.objects.get_or_create(clinician=clinician, weekday=weekday,
                                                 start=dt.time(9), end=dt.time(17))
    ClinicianHours.objects.get_or_create(clinician=staff["clinician2"], weekday=5, start=dt.time(9), end=dt.time(13))
    for kind, minutes in LENGTHS.items():
        AppointmentLength.objects.get_or_create(kind=kind, defaults={"minutes": minutes})

    plans = [p for p in ctx.get("plans") or _factory_plans(ctx) if p.state == "active"]
    desk = staff["frontdesk"]
    _performed_appointments(plans, rooms, devices, desk)
    _around_today(plans, today, rooms, devices, clinicians, desk)
    booked = []
    for plan in plans:
        proposals = [p for p in selectors.propose_course(plan) if p.start is not None]
        slots = [services.Slot(p.kind, p.start, p.room, p.clinician, device=p.device, session=p.session,
                               followup_month=p.followup_month, label=p.label) for p in proposals]
        if slots:
            booked += services.course_book(plan=plan, slots=slots, by=desk, confirm_outside_window=True)
    _phone_reminders(booked)
    ctx["appointments"] = booked


def _device_for(plan, devices):
    return next(d for d in devices if plan.modality in d.modalities)


def _make(plan, session, start, *, room, device, clinician, by, status=AppointmentStatus.BOOKED, kind="session",
          created=None, **extra):
    minutes = LENGTHS.get(plan.modality if kind == "session" else kind, 60)
    end = start + dt.timedelta(minutes=minutes)
    if status in LIVE_APPOINTMENT_STATUSES and Appointment.objects.filter(
        Q(room=room) | Q(clinician=clinician) | Q(device=device) | Q(patient=plan.patient),
        status__in=LIVE_APPOINTMENT_STATUSES, start__lt=end, end__gt=start,
    ).exists():
        return None  # keep the demo free of double bookings (PostgreSQL would refuse them anyway)
    appointment = Appointment(
        patient=plan.patient, plan=plan, session=session, kind=kind, start=start,
        end=start + dt.timedelta(minutes=minutes), room=room, device=device if kind == "session" else None,
        clinician=clinician, status=status, created_by=by, **extra,
    )
    appointment._history_user = by
    appointment.full_clean()
    appointment.save()
    if created:
        Appointment.objects.filter(pk=appointment.pk).update(created_at=created)
    return appointment


def _performed_appointments(plans, rooms, devices, desk):
    """Sessions the visits step recorded as performed get the completed appointment they happened in."""
    for plan in plans:
        for session in plan.sessions.filter(status=SessionStatus.COMPLETED, performed_at__isnull=False):
            if session.appointments.exists():
                continue
            start = timezone.localtime(session.performed_at).replace(minute=0, second=0, microsecond=0)
            clinician = session.performed_by or plan.created_by
            room = rooms[session.number % 2]
            _make(plan, session, start, room=room, device=_device_for(plan, devices), clinician=clinician, by=desk,
                  status=AppointmentStatus.COMPLETED, checked_in_at=start - dt.timedelta(minutes=10),
                  created=start - dt.timedelta(days=20))


def _next_session(plan):
    return (plan.sessions.exclude(status=SessionStatus.COMPLETED)
            .exclude(appointments__status__in=LIVE_APPOINTMENT_STATUSES).order_by("number").first())


def _at(day, hour):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _window_of_next_session(plan):
    """The window of the plan's next session to perform, counted from the sessions actually performed."""
    session = _next_session(plan)
    if session is None:
        return None, None
    performed = {
        s.number: timezone.localtime(s.performed_at).date()
        for s in plan.sessions.filter(status=SessionStatus.COMPLETED, performed_at__isnull=False)
    }
    windows = rules.course_schedule(plan.start_date, plan.sessions_planned, plan.interval_days, performed=performed,
                                    cfg=plan_config(plan)).windows
    return session, next((w for w in windows if w.number == session.number), None)


def _due_first(plans, day):
    """Plans whose next session's window holds the day come first, so the demo's bookings sit in their windows."""
    def inside(plan):
        _, window = _window_of_next_session(plan)
        return window is not None and window.earliest <= day <= window.latest

    return sorted(plans, key=lambda plan: not inside(plan))


def _around_today(plans, today, rooms, devices, clinicians, desk):
    """Today's list (two checked in, one still to come), yesterday's no-show, tomorrow's late cancellation."""
    now = timezone.now()
    plans = _due_first(plans, today)[:5]
    today_slots = [(9, AppointmentStatus.CHECKED_IN), (10, AppointmentStatus.CHECKED_IN), (15, AppointmentStatus.BOOKED)]
    for index, (plan, (hour, status)) in enumerate(zip(plans[:3], today_slots, strict=False)):
        session = _next_session(plan)
        if session is None:
            continue
        start = _at(today, hour)
        _make(plan, session, start, room=rooms[index % 2], device=devices[[0, 1, 0][index]] if plan.modality == "microneedling" else _device_for(plan, devices),
              clinician=clinicians[index % 2], by=desk, status=status,
              checked_in_at=start - dt.timedelta(minutes=5) if status == AppointmentStatus.CHECKED_IN else None,
              created=start - dt.timedelta(days=14))
    if len(plans) > 3 and (session := _next_session(plans[3])):
        start = _at(today - dt.timedelta(days=1), 11)
        _make(plans[3], session, start, room=rooms[0], device=_device_for(plans[3], devices), clinician=clinicians[0],
              by=desk, status=AppointmentStatus.NO_SHOW, created=start - dt.timedelta(days=10))
    if len(plans) > 4 and (session := _next_session(plans[4])):
        start = _at(today + dt.timedelta(days=1), 14)
        _make(plans[4], session, start, room=rooms[1], device=_device_for(plans[4], devices), clinician=clinicians[1],
              by=desk, status=AppointmentStatus.CANCELLED, cancel_reason="Unwell: cold sore starting (asked to rebook)",
              cancelled_at=now - dt.timedelta(hours=3), late_cancellation=True, created=start - dt.timedelta(days=12))


def _phone_reminders(appointments):
    """What the reminder run would list for a call: upcoming bookings of patients without email or consent."""
    horizon = timezone.now() + dt.timedelta(days=3)
    for appointment in appointments:
        patient = appointment.patient
        if appointment.start <= horizon and not patient.may_email:
            ReminderLog.objects.get_or_create(appointment=appointment,
                                              defaults={"channel": "phone", "recipient": patient.phone})


def _factory_plans(ctx):
    from tests.factories import PlanFactory, TreatmentSessionFactory

    plans = []
    for index, patient in enumerate(ctx["patients"][:6]):
        plan = PlanFactory(patient=patient, state="active", created_by=ctx["staff"]["clinician"],
                           start_date=ctx["today"] - dt.timedelta(days=7 * index))
        for number in range(1, plan.sessions_planned + 1):
            TreatmentSessionFactory(plan=plan, number=number)
        plans.append(plan)
    return plans
