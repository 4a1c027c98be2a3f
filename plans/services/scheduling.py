"""Writes for scheduling: booking (one appointment or a whole course), rescheduling, check-in, no-show,
cancellation, resources, calendar feed tokens and reminders.

No double booking: the service checks overlaps inside its transaction and refuses with a clear message; on
PostgreSQL the exclusion constraints (migrations ``scheduling_no_double_booking`` and
``appointment_no_patient_overlap``) are the guarantee when two desks book at the same moment, and their
IntegrityError becomes ERR_PATIENT_BUSY (the patient's constraint) or ERR_SLOT_TAKEN (room, device, clinician).

The patient's row is locked for the check (FOR NO KEY UPDATE: it does not block rows that merely reference the
patient), so two desks booking the same patient take turns and the second sees the first's appointment. On SQLite
every transaction begins IMMEDIATE (settings: transaction_mode), so bookings take turns there too and the check
alone is the guarantee.
"""

import dataclasses
import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from icalendar import Calendar, Event

from patients.models import Patient
from plans import rules
from plans.config import rule_config
from plans.models import (
    LIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    CalendarFeedToken,
    ClinicianHours,
    Plan,
    PlanAdjunct,
    ReminderLog,
    SessionStatus,
    TreatmentSession,
)
from plans.selectors import scheduling as sel
from plans.selectors.course import adjunct_specs

ERR_PLAN_NOT_ACTIVE = "Only an active plan can be booked."
ERR_SESSION_DONE = "Session {number} has already been performed."
ERR_SESSION_NOT_BOOKABLE = "Session {number} is {status} and cannot be booked."
ERR_SESSION_BOOKED = "Session {number} is already booked; reschedule that appointment instead."
ERR_FOLLOWUP_BOOKED = "The {month}-month follow-up is already booked."
ERR_OUTSIDE_WINDOW = (
    "Session {number} on {day:%a %d %b %Y} is outside its window ({earliest:%d %b} to {latest:%d %b %Y}). "
    "Confirm to book it anyway."
)
ERR_ROOM_BUSY = "{name} is already booked at that time."
ERR_DEVICE_BUSY = "{name} is already in use at that time."
ERR_CLINICIAN_BUSY = "{name} already has an appointment at that time."
ERR_PATIENT_BUSY = "This patient is already booked at that time."
PATIENT_OVERLAP_CONSTRAINT = "appointment_no_patient_overlap"
ERR_SLOT_TAKEN = "This slot has just been taken by another booking (room, device or clinician). Pick another slot."
ERR_DEVICE_REQUIRED = "A treatment session needs a device."
ERR_DEVICE_MODALITY = "{name} does not perform {modality}."
ERR_NOT_WORKING = "{name} is not working at that time."
ERR_IN_PAST = "An appointment cannot start in the past."
ERR_INACTIVE = "{name} is not in use any more."
ERR_NO_SLOT = "{label}: no time chosen."
ERR_STATUS = "This appointment is {status}; it cannot be {action}."
ERR_CHECK_IN_DAY = "A patient can only be checked in on the day of the appointment."
ERR_NO_SHOW_EARLY = "A no-show can only be recorded once the appointment has started."
ERR_CANCEL_REASON = "Give a reason for the cancellation."
ERR_CASCADE_NOT_SESSION = "Only a treatment session's booking moves the later sessions with it."
ERR_CASCADE_NOT_LATER = "Only later bookings of the same course can move with it."
ERR_NOTHING_TO_BOOK = "Nothing to book: every session and follow-up is already booked or performed."


class BookingError(Exception):
    def __init__(self, message: str, *, row: int | None = None):
        super().__init__(message)
        self.message = message
        self.row = row


class OutsideWindow(BookingError):
    """The booking is possible but outside the session's window: the desk must confirm it."""


@dataclasses.dataclass
class Slot:
    """One appointment to book; kind session (with session) or follow_up (with followup_month)."""

    kind: str
    start: dt.datetime
    room: object
    clinician: object
    device: object = None
    session: TreatmentSession | None = None
    followup_month: int | None = None
    minutes: int | None = None
    label: str = ""


# --------------------------------------------------------------------------- checks


def _clinician_name(user) -> str:
    return user.get_full_name() or user.username


def _check_resources(*, start, end, room, device, clinician, patient, exclude_pk=None, exclude_pks=()) -> None:
    """Raise BookingError when anything the appointment needs is inactive, off duty or already booked."""
    # Bookings of one patient take turns from here to their commit, so the overlap query below sees the other's.
    Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).order_by().values_list("pk").first()
    for resource in (room, device):
        if resource is not None and not resource.is_active:
            raise BookingError(ERR_INACTIVE.format(name=resource.name))
    local_start, local_end = timezone.localtime(start), timezone.localtime(end)
    working = ClinicianHours.objects.filter(
        clinician=clinician, weekday=local_start.weekday(), start__lte=local_start.time(), end__gte=local_end.time()
    ).exists()
    if not working or local_start.date() != local_end.date():
        raise BookingError(ERR_NOT_WORKING.format(name=_clinician_name(clinician)))
    clash = Q(room=room) | Q(clinician=clinician) | Q(patient=patient)
    if device is not None:
        clash |= Q(device=device)
    overlapping = Appointment.objects.filter(clash, status__in=LIVE_APPOINTMENT_STATUSES, start__lt=end, end__gt=start)
    excluded = {pk for pk in (exclude_pk, *exclude_pks) if pk}
    if excluded:
        overlapping = overlapping.exclude(pk__in=excluded)
    for other in overlapping.only("room_id", "device_id", "clinician_id", "patient_id"):
        if other.room_id == room.pk:
            raise BookingError(ERR_ROOM_BUSY.format(name=room.name))
        if device is not None and other.device_id == device.pk:
            raise BookingError(ERR_DEVICE_BUSY.format(name=device.name))
        if other.clinician_id == clinician.pk:
            raise BookingError(ERR_CLINICIAN_BUSY.format(name=_clinician_name(clinician)))
        raise BookingError(ERR_PATIENT_BUSY)


def _check_session_window(*, plan: Plan, session: TreatmentSession, day: dt.date, exclude_pk=None) -> None:
    sessions = list(plan.sessions.all())
    live = Appointment.objects.filter(plan=plan, session__isnull=False, status__in=LIVE_APPOINTMENT_STATUSES)
    if exclude_pk:
        live = live.exclude(pk=exclude_pk)
    window = sel.windows_for(plan, sessions, list(live))[session.number - 1].window
    if rules.outside_window(window, day):
        raise OutsideWindow(
            ERR_OUTSIDE_WINDOW.format(number=session.number, day=day, earliest=window.earliest, latest=window.latest)
        )


def _save(appointment: Appointment, *, by) -> Appointment:
    appointment._history_user = by
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives a refused insert
            appointment.full_clean()
            appointment.save()
    except IntegrityError as exc:  # a PostgreSQL exclusion constraint: another desk won the race
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        raise BookingError(ERR_PATIENT_BUSY if constraint == PATIENT_OVERLAP_CONSTRAINT else ERR_SLOT_TAKEN) from exc
    except ValidationError as exc:
        raise BookingError(" ".join(exc.messages)) from exc
    return appointment


def _book(slot: Slot, *, patient, plan: Plan | None, by, confirm_outside_window: bool, now: dt.datetime) -> Appointment:
    if slot.start < now:
        raise BookingError(ERR_IN_PAST)
    session = slot.session
    if slot.kind == AppointmentKind.SESSION and session is not None:
        plan = Plan.objects.select_for_update().get(pk=session.plan_id)  # its state now, not as first read
        if plan.state != "active":
            raise BookingError(ERR_PLAN_NOT_ACTIVE)
        session = TreatmentSession.objects.select_for_update().get(pk=session.pk)
        if session.status == SessionStatus.COMPLETED:
            raise BookingError(ERR_SESSION_DONE.format(number=session.number))
        if session.status not in sel.BOOKABLE_SESSION_STATUSES:
            raise BookingError(
                ERR_SESSION_NOT_BOOKABLE.format(number=session.number, status=session.get_status_display().lower())
            )
        if session.appointments.filter(status__in=LIVE_APPOINTMENT_STATUSES).exists():
            raise BookingError(ERR_SESSION_BOOKED.format(number=session.number))
        if slot.device is None:
            raise BookingError(ERR_DEVICE_REQUIRED)
        if plan.modality not in (slot.device.modalities or []):
            raise BookingError(ERR_DEVICE_MODALITY.format(name=slot.device.name, modality=plan.get_modality_display()))
        if not confirm_outside_window:
            _check_session_window(plan=plan, session=session, day=sel.local_date(slot.start))
    if slot.kind == AppointmentKind.FOLLOW_UP and plan is not None and slot.followup_month:
        if plan.appointments.filter(
            kind=AppointmentKind.FOLLOW_UP, followup_month=slot.followup_month, status__in=LIVE_APPOINTMENT_STATUSES
        ).exists():
            raise BookingError(ERR_FOLLOWUP_BOOKED.format(month=slot.followup_month))
    minutes = slot.minutes or sel.appointment_minutes(slot.kind, plan.modality if plan else None)
    end = slot.start + dt.timedelta(minutes=minutes)
    _check_resources(start=slot.start, end=end, room=slot.room, device=slot.device, clinician=slot.clinician,
                     patient=patient)
    return _save(
        Appointment(
            patient=patient, plan=plan, session=session, kind=slot.kind, followup_month=slot.followup_month,
            start=slot.start, end=end, room=slot.room, device=slot.device, clinician=slot.clinician, created_by=by,
        ),
        by=by,
    )


# --------------------------------------------------------------------------- booking


def appointment_book(*, patient, slot: Slot, by, plan: Plan | None = None, confirm_outside_window: bool = False,
                     notes: str = "", now: dt.datetime | None = None) -> Appointment:
    """Book one appointment (a session of an active plan, a follow-up or a consultation)."""
    with transaction.atomic():
        plan = slot.session.plan if slot.session is not None else plan
        appointment = _book(slot, patient=patient, plan=plan, by=by, confirm_outside_window=confirm_outside_window,
                            now=now or timezone.now())
        if notes:
            appointment.notes = notes
            appointment.save(update_fields=["notes"])
        return appointment


def course_book(*, plan: Plan, slots: list[Slot], by, confirm_outside_window: bool = False,
                now: dt.datetime | None = None) -> list[Appointment]:
    """Book the chosen slots of a course in one transaction: all of them, or none (the row that failed is
    on the error). Sessions are booked in order, so each window follows the booking before it."""
    now = now or timezone.now()
    with transaction.atomic():
        plan = Plan.objects.select_for_update().select_related("patient").get(pk=plan.pk)
        if plan.state != "active":
            raise BookingError(ERR_PLAN_NOT_ACTIVE)
        if not slots:
            raise BookingError(ERR_NOTHING_TO_BOOK)
        booked = []
        for index, slot in enumerate(slots):
            try:
                booked.append(
                    _book(slot, patient=plan.patient, plan=plan, by=by,
                          confirm_outside_window=confirm_outside_window, now=now)
                )
            except BookingError as exc:
                prefix = f"{slot.label}: " if slot.label else ""
                raise type(exc)(prefix + exc.message, row=index) from exc
        return booked


def appointment_reschedule(*, appointment: Appointment, start: dt.datetime, room, clinician, by, device=None,
                           confirm_outside_window: bool = False, now: dt.datetime | None = None):
    """Move a booked appointment. Returns (appointment, later bookings of the plan now outside their window):
    the windows after it move, those bookings are flagged, never moved silently."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update(of=("self",)).select_related("plan", "session").get(pk=appointment.pk)
        )
        if appointment.status != AppointmentStatus.BOOKED:
            raise BookingError(ERR_STATUS.format(status=appointment.get_status_display().lower(), action="moved"))
        if start < now:
            raise BookingError(ERR_IN_PAST)
        if appointment.kind == AppointmentKind.SESSION and appointment.session_id:
            if device is None:
                raise BookingError(ERR_DEVICE_REQUIRED)
            if appointment.plan.modality not in (device.modalities or []):
                raise BookingError(
                    ERR_DEVICE_MODALITY.format(name=device.name, modality=appointment.plan.get_modality_display())
                )
            if not confirm_outside_window:
                _check_session_window(plan=appointment.plan, session=appointment.session,
                                      day=sel.local_date(start), exclude_pk=appointment.pk)
        end = start + (appointment.end - appointment.start)
        _check_resources(start=start, end=end, room=room, device=device, clinician=clinician,
                         patient=appointment.patient, exclude_pk=appointment.pk)
        appointment.start, appointment.end = start, end
        appointment.room, appointment.device, appointment.clinician = room, device, clinician
        appointment.window_flagged_at = None  # the desk has dealt with it
        _save(appointment, by=by)
        flagged = []
        if appointment.plan_id:
            flagged = [
                row for row in sel.plan_schedule(appointment.plan)["session_rows"]
                if row.outside_window and row.appointment.pk != appointment.pk
            ]
        return appointment, flagged


@dataclasses.dataclass
class Move:
    """Where one booking goes in a reschedule cascade."""

    appointment: Appointment
    start: dt.datetime
    room: object
    clinician: object
    device: object = None


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def _save_order(moves: list[Move], ends: dict[int, dt.datetime]) -> list[Move]:
    """An order in which no booking lands on a slot another booking of the cascade still holds (the patient is
    the same, and PostgreSQL checks the exclusion constraints row by row); as given when none exists."""
    pending, ordered = list(moves), []
    while pending:
        for move in pending:
            new_end = ends[move.appointment.pk]
            if not any(
                _overlaps(move.start, new_end, other.appointment.start, other.appointment.end)
                for other in pending if other is not move
            ):
                break
        else:
            move = pending[0]
        pending.remove(move)
        ordered.append(move)
    return ordered


def appointment_reschedule_cascade(*, appointment: Appointment, start: dt.datetime, room, clinician, by,
                                   device=None, later: list[Move], confirm_outside_window: bool = False,
                                   now: dt.datetime | None = None) -> list[Appointment]:
    """Move a session's booking and later bookings of the same course in one transaction: every move is
    checked (status, device, window after the moves before it, rooms, devices, clinicians and the patient),
    then all are saved; if any is refused nothing changes (the row that failed is on the error)."""
    now = now or timezone.now()
    with transaction.atomic():
        main = Appointment.objects.select_related("plan", "session").get(pk=appointment.pk)
        if main.kind != AppointmentKind.SESSION or not main.session_id:
            raise BookingError(ERR_CASCADE_NOT_SESSION)
        plan = Plan.objects.select_for_update().get(pk=main.plan_id)
        locked = {
            a.pk: a for a in Appointment.objects.select_for_update(of=("self",)).select_related("session")
            .filter(plan=plan, session__isnull=False).order_by("pk")
        }
        moves = [Move(locked[main.pk], start, room, clinician, device)]
        for move in later:
            current = locked.get(move.appointment.pk)
            if current is None or current.session.number <= main.session.number:
                raise BookingError(ERR_CASCADE_NOT_LATER)
            moves.append(dataclasses.replace(move, appointment=current))
        moves.sort(key=lambda m: m.appointment.session.number)
        moving = {m.appointment.pk for m in moves}
        if len(moving) != len(moves):
            raise BookingError(ERR_CASCADE_NOT_LATER)
        sessions = list(plan.sessions.all())
        others = [a for a in locked.values() if a.pk not in moving and a.status in LIVE_APPOINTMENT_STATUSES]
        extra_booked, ends, placed = {}, {}, []
        for index, move in enumerate(moves):
            target = move.appointment
            label = f"Session {target.session.number}: "
            try:
                if target.status != AppointmentStatus.BOOKED:
                    raise BookingError(ERR_STATUS.format(status=target.get_status_display().lower(), action="moved"))
                if move.start < now:
                    raise BookingError(ERR_IN_PAST)
                if move.device is None:
                    raise BookingError(ERR_DEVICE_REQUIRED)
                if plan.modality not in (move.device.modalities or []):
                    raise BookingError(ERR_DEVICE_MODALITY.format(name=move.device.name,
                                                                  modality=plan.get_modality_display()))
                day = sel.local_date(move.start)
                window = sel.windows_for(plan, sessions, others, extra_booked)[target.session.number - 1].window
                if not confirm_outside_window and rules.outside_window(window, day):
                    raise OutsideWindow(ERR_OUTSIDE_WINDOW.format(
                        number=target.session.number, day=day, earliest=window.earliest, latest=window.latest))
                end = move.start + (target.end - target.start)
                _check_resources(start=move.start, end=end, room=move.room, device=move.device,
                                 clinician=move.clinician, patient=target.patient, exclude_pks=moving)
                if any(_overlaps(move.start, end, s, e) for s, e in placed):
                    raise BookingError(ERR_PATIENT_BUSY)
            except BookingError as exc:
                raise type(exc)(label + exc.message, row=index) from exc
            placed.append((move.start, end))
            ends[target.pk] = end
            extra_booked[target.session.number] = day
        saved = []
        for move in _save_order(moves, ends):
            target = move.appointment
            target.start, target.end = move.start, ends[target.pk]
            target.room, target.device, target.clinician = move.room, move.device, move.clinician
            target.window_flagged_at = None
            target._change_reason = f"Moved with session {main.session.number} (cascade)"
            try:
                _save(target, by=by)
            except BookingError as exc:
                raise BookingError(f"Session {target.session.number}: {exc.message}") from exc
            saved.append(target)
        return sorted(saved, key=lambda a: a.session.number)


def _change_status(appointment_id: int, *, allowed_from, action: str):
    appointment = Appointment.objects.select_for_update().get(pk=appointment_id)
    if appointment.status not in allowed_from:
        raise BookingError(ERR_STATUS.format(status=appointment.get_status_display().lower(), action=action))
    return appointment


def appointment_check_in(*, appointment: Appointment, by, now: dt.datetime | None = None) -> Appointment:
    now = now or timezone.now()
    with transaction.atomic():
        appointment = _change_status(appointment.pk, allowed_from={AppointmentStatus.BOOKED}, action="checked in")
        if sel.local_date(appointment.start) != sel.local_date(now):
            raise BookingError(ERR_CHECK_IN_DAY)
        appointment.status = AppointmentStatus.CHECKED_IN
        appointment.checked_in_at = now
        return _save(appointment, by=by)


def appointment_no_show(*, appointment: Appointment, by, now: dt.datetime | None = None) -> Appointment:
    now = now or timezone.now()
    with transaction.atomic():
        appointment = _change_status(appointment.pk, allowed_from={AppointmentStatus.BOOKED}, action="marked a no-show")
        if appointment.start > now:
            raise BookingError(ERR_NO_SHOW_EARLY)
        appointment.status = AppointmentStatus.NO_SHOW
        return _save(appointment, by=by)


@transaction.atomic
def appointments_complete_for_session(*, session: TreatmentSession, by) -> int:
    """The session was performed: its booking (booked or checked in) is completed and keeps its slot."""
    open_bookings = Appointment.objects.select_for_update().filter(
        session=session, status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN]
    )
    for appointment in open_bookings:
        appointment.status = AppointmentStatus.COMPLETED
        _save(appointment, by=by)
    return len(open_bookings)


def appointment_cancel(*, appointment: Appointment, reason: str, by, now: dt.datetime | None = None) -> Appointment:
    """Cancel with a reason; under the clinic's notice period (24 h by default) it is flagged late."""
    now = now or timezone.now()
    if not reason.strip():
        raise BookingError(ERR_CANCEL_REASON)
    with transaction.atomic():
        appointment = _change_status(
            appointment.pk, allowed_from={AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN}, action="cancelled"
        )
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancel_reason = reason.strip()
        appointment.cancelled_at = now
        appointment.late_cancellation = rules.is_late_cancellation(appointment.start, now, rule_config())
        return _save(appointment, by=by)


# --------------------------------------------------------------------------- resources and feed tokens


def resource_save(*, form):
    """Save a resource form (room, device, working hours, appointment length) after full validation."""
    with transaction.atomic():
        instance = form.save(commit=False)
        instance.full_clean()
        instance.save()
        return instance


def clinician_hours_delete(*, hours: ClinicianHours) -> None:
    with transaction.atomic():
        ClinicianHours.objects.select_for_update().filter(pk=hours.pk).delete()


def feed_token_regenerate(*, user) -> CalendarFeedToken:
    """A new secret for the user's calendar feed; the old address stops working at once."""
    with transaction.atomic():
        feed, created = CalendarFeedToken.objects.select_for_update().get_or_create(user=user)
        if not created:
            feed.token = secrets.token_urlsafe(32)
            feed.full_clean()
            feed.save(update_fields=["token"])
        return feed


def feed_token_get_or_create(*, user) -> CalendarFeedToken:
    with transaction.atomic():
        return CalendarFeedToken.objects.get_or_create(user=user)[0]


# --------------------------------------------------------------------------- calendar files


def _event(appointment: Appointment, *, summary: str, description: str = "") -> Event:
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@{settings.CLINIC_NAME.lower().replace(' ', '-')}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.start)
    event.add("dtend", appointment.end)
    event.add("summary", summary)
    location = ", ".join(part for part in [settings.CLINIC_NAME, appointment.room.name if appointment.room else ""] if part)
    event.add("location", location)
    if description:
        event.add("description", description)
    return event


def _calendar(events) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Clinic scheduling//EN")
    calendar.add("version", "2.0")
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def clinician_feed_ics(appointments) -> bytes:
    """A clinician's calendar: the patient's initials and record number only, no clinical detail."""
    events = []
    for a in appointments:
        initials = f"{a.patient.first_name[:1]}.{a.patient.last_name[:1]}."
        events.append(_event(a, summary=f"{a.get_kind_display()}: {initials} {a.patient.mrn}"))
    return _calendar(events)


# --------------------------------------------------------------------------- reminders


@dataclasses.dataclass
class ReminderRun:
    emailed: list = dataclasses.field(default_factory=list)
    to_call: list = dataclasses.field(default_factory=list)


def reminder_instructions(appointment: Appointment) -> list[str]:
    """The pre-session steps for this patient's regimen (treatment sessions only)."""
    if appointment.kind != AppointmentKind.SESSION or appointment.plan_id is None:
        return []
    adjuncts = adjunct_specs(PlanAdjunct.objects.filter(plan_id=appointment.plan_id))
    return rules.pre_session_instructions(
        adjuncts=adjuncts, hsv_history=appointment.patient.hsv_history,
        session_date=sel.local_date(appointment.start), cfg=rule_config(), today=timezone.localdate(),
    )


def reminder_email(appointment: Appointment) -> EmailMessage:
    start = timezone.localtime(appointment.start)
    steps = reminder_instructions(appointment)
    lines = [
        f"Dear {appointment.patient.first_name},",
        "",
        f"This is a reminder of your {appointment.get_kind_display().lower()} at {settings.CLINIC_NAME} on "
        f"{start:%A %d %B %Y} at {start:%H:%M}.",
    ]
    if steps:
        lines += ["", "Before your session:"] + [f"- {step}" for step in steps]
    lines += ["", f"To change or cancel, please call us on {settings.CLINIC_PHONE}.", "", settings.CLINIC_NAME]
    body = "\n".join(lines)
    message = EmailMessage(
        subject=f"Reminder: your appointment on {start:%a %d %b} at {start:%H:%M}",
        body=body,
        to=[appointment.patient.email],
    )
    ics = _calendar([_event(appointment, summary=f"{settings.CLINIC_NAME}: {appointment.get_kind_display()}",
                            description="\n".join(steps))])
    message.attach("appointment.ics", ics, "text/calendar")
    return message


def reminder_send(*, appointment_id: int) -> ReminderLog | None:
    """Log then send one reminder in one transaction; None when another run has it or it is already logged.

    The log row is written before the email goes out: if sending fails the transaction rolls back and the
    next run tries again; if it succeeds, the unique log row means no later run sends it twice.
    """
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("patient", "plan")
            .filter(pk=appointment_id, status=AppointmentStatus.BOOKED, reminders__isnull=True)
            .first()
        )
        if appointment is None:
            return None
        patient = appointment.patient
        by_email = patient.may_email
        log = ReminderLog(appointment=appointment, channel="email" if by_email else "phone",
                          recipient=patient.email if by_email else patient.phone)
        try:
            with transaction.atomic():
                log.save()
        except IntegrityError:  # a concurrent run logged it first
            return None
        if by_email:
            reminder_email(appointment).send()
        return log


def reminders_send(*, now: dt.datetime | None = None, days_before: int | None = None) -> ReminderRun:
    now = now or timezone.now()
    days_before = settings.REMINDER_DAYS_BEFORE if days_before is None else days_before
    run = ReminderRun()
    for appointment_id in sel.reminder_candidates(now=now, days_before=days_before):
        log = reminder_send(appointment_id=appointment_id)
        if log is not None:
            (run.emailed if log.channel == "email" else run.to_call).append(log)
    return run
