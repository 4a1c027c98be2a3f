"""Reads for scheduling: session windows of a plan, free-slot proposals, calendars, flags and holds.

Every read here costs a fixed number of queries whatever the number of appointments: the flags (booking
outside its window, booking holds) for a whole page are computed from one query per kind of data.
"""

import dataclasses
import datetime as dt
from collections import defaultdict, namedtuple
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.urls import reverse
from django.utils import timezone

from clinic.selectors import register_panel
from patients.selectors import patient_url_prefix
from plans import rules
from plans.config import rule_config
from plans.models import (
    LIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentLength,
    AppointmentStatus,
    CalendarFeedToken,
    ClinicianHours,
    Device,
    Plan,
    PlanAdjunct,
    ReminderLog,
    Room,
    SessionStatus,
    TreatmentSession,
)
from plans.selectors import register_patient_panel, register_plan_panel
from plans.selectors.course import (
    adjunct_specs,
    consent_columns,
    plan_appointments,
    plan_config,
    plans_consent_complete,
)
from plans.selectors.visits import open_unreviewed_adverse_events, open_unreviewed_adverse_events_count

DEFAULT_APPOINTMENT_MINUTES = 60
SLOT_STEP_MINUTES = 15
# Sessions the desk may still book: performed ones are history, cancelled ones are not coming back.
BOOKABLE_SESSION_STATUSES = [SessionStatus.PLANNED, SessionStatus.BLOCKED, SessionStatus.MISSED]


# --------------------------------------------------------------------------- time helpers


def local_date(moment: dt.datetime, tz=None) -> dt.date:
    # timezone.localtime(moment).date() without its checks; loops pass the zone they looked up once (a
    # calendar page converts hundreds of datetimes).
    return moment.astimezone(tz or timezone.get_current_timezone()).date()


def at(day: dt.date, time: dt.time) -> dt.datetime:
    """An aware datetime in the clinic's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, time))


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return at(day, dt.time.min), at(day + dt.timedelta(days=1), dt.time.min)


def appointment_minutes(kind: str, modality: str | None = None, lengths: dict[str, int] | None = None) -> int:
    """Length from AppointmentLength: the modality for a session, else 'follow_up' / 'consultation'."""
    if lengths is None:
        lengths = dict(AppointmentLength.objects.values_list("kind", "minutes"))
    key = modality if kind == AppointmentKind.SESSION and modality else kind
    return lengths.get(key, DEFAULT_APPOINTMENT_MINUTES)


# --------------------------------------------------------------------------- windows


def _performed_date(session: TreatmentSession, tz=None) -> dt.date | None:
    if session.status != SessionStatus.COMPLETED:
        return None
    moment = session.performed_at or session.completed_at
    return local_date(moment, tz) if moment else None


@dataclasses.dataclass
class SessionRow:
    session: TreatmentSession
    window: rules.Window
    performed_on: dt.date | None
    appointment: Appointment | None
    outside_window: bool


def windows_for(plan: Plan, sessions: list[TreatmentSession], appointments: Iterable[Appointment], extra_booked=None,
                *, clinic_cfg=None):
    """Session rows of one plan from already-loaded sessions and live appointments (no queries); `clinic_cfg`:
    rule_config() read once by a caller looping over many plans."""
    tz = timezone.get_current_timezone()
    performed, booked, booking = {}, {}, {}
    for session in sessions:
        if (day := _performed_date(session, tz)) is not None:
            performed[session.number] = day
    numbers = {s.pk: s.number for s in sessions}
    for appointment in sorted(appointments, key=lambda a: a.start):
        number = numbers.get(appointment.session_id)
        if number is None or appointment.status not in LIVE_APPOINTMENT_STATUSES:
            continue
        booking.setdefault(number, appointment)
        if number not in performed:
            booked.setdefault(number, local_date(appointment.start, tz))
    booked.update(extra_booked or {})
    count = max([plan.sessions_planned, *numbers.values()]) if numbers else plan.sessions_planned
    # The windows of rules.course_schedule, without its follow-up dates (not needed here).
    windows = rules.session_windows(
        plan.start_date, count, plan.interval_days, performed, booked, plan_config(plan, clinic=clinic_cfg)
    )
    rows = []
    for session in sorted(sessions, key=lambda s: s.number):
        window = windows[session.number - 1]
        appointment = booking.get(session.number)
        outside = bool(
            appointment
            and session.number not in performed
            and rules.outside_window(window, local_date(appointment.start, tz))
        )
        rows.append(SessionRow(session, window, performed.get(session.number), appointment, outside))
    return rows


def plan_schedule(plan: Plan) -> dict:
    """The plan panel: each session's window and booking, follow-ups, and which bookings are outside."""
    sessions = list(plan.sessions.all())
    appointments = plan_appointments(plan)
    rows = windows_for(plan, sessions, appointments)
    followups = [a for a in appointments if a.kind == AppointmentKind.FOLLOW_UP and a.status in LIVE_APPOINTMENT_STATUSES]
    return {
        "plan": plan,
        "session_rows": rows,
        "followups": followups,
        "outside_count": sum(row.outside_window for row in rows),
        "other_appointments": [a for a in appointments if a.status not in LIVE_APPOINTMENT_STATUSES],
    }


# --------------------------------------------------------------------------- flags and holds


_LiveBooking = namedtuple("_LiveBooking", "session_id start status")  # what windows_for reads of a booking


@dataclasses.dataclass
class Flags:
    outside_window: bool = False
    window: rules.Window | None = None
    holds: list[str] = dataclasses.field(default_factory=list)


def appointment_flags(
    appointments: list, plans: dict | None = None, *, plan_ids=None, patient_ids=None, consented=None, open_events=None,
) -> dict[int, Flags]:
    """Outside-window and hold flags for a page of appointments, in a fixed number of queries.

    Holds (rules.booking_holds) apply to treatment sessions still to come: consent, open adverse events,
    and topical pauses counted from the day the booking was made. `appointments` are Appointment instances
    (their plan selected with them) or light rows with the same attributes; `plans` ({plan_id: plan or a row
    with the plan's scheduling fields}) is read from the appointments when not given. `plan_ids` and
    `patient_ids` may be subqueries selecting the same plans and patients, so that the database reads them
    rather than each query carrying a long list of ids. `consented` (ids of plans with complete consent) and
    `open_events` ({patient_id: unreviewed adverse events}) are read here unless the caller selected them with
    its rows (day_view selects them with consent_columns and open_unreviewed_adverse_events_count).
    """
    if plans is None:
        plans = {a.plan_id: a.plan for a in appointments if a.plan_id}
    if not plans:
        return {a.pk: Flags() for a in appointments}
    # Light rows, not model instances: a busy day touches hundreds of sessions and bookings of its plans.
    if plan_ids is None:
        plan_ids = list(plans)
    tz = timezone.get_current_timezone()
    # Each session of those plans with the start of its first live booking, in one query: the windows need
    # nothing else of the bookings.
    first_live_start = Subquery(
        Appointment.objects.filter(session=OuterRef("pk"), status__in=LIVE_APPOINTMENT_STATUSES)
        .order_by("start").values("start")[:1]
    )
    sessions, live = defaultdict(list), defaultdict(list)
    for session in TreatmentSession.objects.filter(plan_id__in=plan_ids).annotate(booked_start=first_live_start).values_list(
        "pk", "plan_id", "number", "status", "performed_at", "completed_at", "booked_start", named=True
    ):
        sessions[session.plan_id].append(session)
        if session.booked_start is not None:
            live[session.plan_id].append(_LiveBooking(session.pk, session.booked_start, AppointmentStatus.BOOKED))
    adjuncts = defaultdict(list)
    for adjunct in PlanAdjunct.objects.filter(plan_id__in=plan_ids).values_list(
        "plan_id", "agent", "strength", "pause_days_before", "start_date", "stop_date", named=True
    ):
        adjuncts[adjunct.plan_id].extend(adjunct_specs([adjunct]))
    if consented is None:
        consented = plans_consent_complete(plan_ids)
    if open_events is None:
        if patient_ids is None:
            patient_ids = sorted({p.patient_id for p in plans.values()})
        open_events = open_unreviewed_adverse_events(patient_ids)

    by_session = {}
    clinic_cfg = rule_config()
    for plan_id, plan in plans.items():
        for row in windows_for(plan, sessions[plan_id], live[plan_id], clinic_cfg=clinic_cfg):
            by_session[row.session.pk] = row
    flags = {}
    for appointment in appointments:
        flag = Flags()
        row = by_session.get(appointment.session_id)
        if row is not None and appointment.status in LIVE_APPOINTMENT_STATUSES:
            flag.window = row.window
            flag.outside_window = row.performed_on is None and rules.outside_window(
                row.window, local_date(appointment.start, tz)
            )
        if (
            appointment.kind == AppointmentKind.SESSION
            and appointment.plan_id
            and appointment.status == AppointmentStatus.BOOKED
        ):
            day = local_date(appointment.start, tz)
            flag.holds = rules.booking_holds(
                consent_complete=appointment.plan_id in consented,
                open_adverse_events=open_events.get(plans[appointment.plan_id].patient_id, 0),
                adjuncts=adjuncts[appointment.plan_id],
                pause_started_on=None,
                appointment_date=day,
                booked_on=min(local_date(appointment.created_at, tz), day),
            )
        flags[appointment.pk] = flag
    return flags


# --------------------------------------------------------------------------- calendars


def _calendar_queryset():
    return Appointment.objects.select_related("patient", "room", "device", "clinician", "plan", "session")


def _columns(by: str, appointments: list[Appointment], weekdays: set[int]):
    if by == "clinician":
        ids = {a.clinician_id for a in appointments if a.clinician_id}
        ids |= set(ClinicianHours.objects.filter(weekday__in=weekdays).values_list("clinician_id", flat=True))
        columns = list(User.objects.filter(pk__in=ids).order_by("last_name", "first_name", "username"))
        key = "clinician_id"
    else:
        columns = list(Room.objects.filter(Q(is_active=True) | Q(pk__in={a.room_id for a in appointments})))
        key = "room_id"
    return columns, key


# The plan's fields that its session windows are computed from (windows_for, plan_config).
_PLAN_WINDOW_FIELDS = (
    "patient_id", "start_date", "sessions_planned", "interval_days", "window_before_days", "window_after_days",
    "followup_months",
)
PlanWindowRow = namedtuple("PlanWindowRow", _PLAN_WINDOW_FIELDS)
STATUS_BADGES = {
    AppointmentStatus.CHECKED_IN: "success", AppointmentStatus.BOOKED: "primary", AppointmentStatus.COMPLETED: "secondary",
}
_STATUS_LABELS = dict(AppointmentStatus.choices)
_KIND_LABELS = dict(AppointmentKind.choices)


@dataclasses.dataclass(slots=True)
class CalendarCard:
    """One appointment of the day calendar with everything its card shows worked out (no lookups in the template)."""

    pk: int
    times: str
    status: str
    status_label: str
    badge: str
    patient_url: str
    patient_name: str
    mrn: str
    detail: str  # "Session 2 · Room 1 · Device": what, and the other resource than the column's
    cancel_reason: str
    badges: list  # (Bootstrap colour, text, title) for outside window, holds, late cancellation
    actions: bool  # still booked and the viewer may change bookings: check-in, no-show, move and cancel
    aftercare_url: str  # the session's aftercare sheet, once performed, for a viewer who may print it
    url: str  # the appointment's own addresses are this + "check-in/", "no-show/", "move/", "cancel/"
    flags: Flags | None = None


def _person(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def _badges(flags: Flags, late_cancellation: bool) -> list[tuple[str, str, str]]:
    badges = []
    if flags.outside_window:
        window = flags.window
        badges.append(("warning", "Outside window", f"Window {window.earliest:%d %b} – {window.latest:%d %b %Y}"))
    badges += [("danger", f"Hold: {hold}", "") for hold in flags.holds]
    if late_cancellation:
        badges.append(("danger", "Late cancellation", ""))
    return badges


_Resource = namedtuple("_Resource", "kind pk name last_name username is_active")


def _day_resources(rows, day: dt.date, by_clinician: bool) -> dict[str, dict[int, _Resource]]:
    """Names of the rooms, devices and clinicians of the day's cards, and of every column, in one query (a UNION
    of three small selects): joining the three tables into the appointments query costs PostgreSQL more time to
    plan than this costs to run. Rooms: the active ones and any booked; clinicians: those booked, and in the
    clinician view those working that weekday."""
    text = CharField()
    rooms = Room.objects.filter(Q(is_active=True) | Q(pk__in={r.room_id for r in rows if r.room_id})).order_by().values_list(
        Value("room", output_field=text), "pk", "name", Value("", output_field=text), Value("", output_field=text),
        "is_active",
    )
    devices = Device.objects.filter(pk__in={r.device_id for r in rows if r.device_id}).order_by().values_list(
        Value("device", output_field=text), "pk", "name", Value("", output_field=text), Value("", output_field=text),
        "is_active",
    )
    staff_ids = Q(pk__in={r.clinician_id for r in rows if r.clinician_id})
    if by_clinician:
        staff_ids |= Q(pk__in=ClinicianHours.objects.filter(weekday=day.weekday()).values("clinician_id"))
    staff = User.objects.filter(staff_ids).order_by().values_list(
        Value("staff", output_field=text), "pk", "first_name", "last_name", "username", "is_active",
    )
    found = {"room": {}, "device": {}, "staff": {}}
    for resource in rooms.union(devices, staff, all=True):
        resource = _Resource(*resource)
        found[resource.kind][resource.pk] = resource
    return found


def day_view(day: dt.date, by: str = "room", *, can_change: bool = False, can_print: bool = False) -> dict:
    # Only the rows of the day's patients and the shared rows (clinic/datachanges.py): the page keeps what this
    # returns, laid out, under their versions. The phone-call list reads other days: it is read on every view.
    """The day calendar: one light row per appointment (a values() query, not model instances), grouped in
    columns by room or clinician, with its flags and holds and everything its card shows worked out here, once;
    a fixed number of queries. `can_change`: the viewer may change bookings (the cards carry their actions);
    `can_print`: the viewer may print aftercare sheets (completed sessions link theirs)."""
    start, end = day_bounds(day)
    rows = list(
        Appointment.objects.filter(start__gte=start, start__lt=end)
        # The holds' consent and adverse-event checks on the same rows rather than two more queries.
        .annotate(**consent_columns("plan__"), open_events=open_unreviewed_adverse_events_count("patient_id"))
        .order_by("start", "id")
        .values_list(
            "pk", "start", "end", "status", "kind", "followup_month", "cancel_reason", "late_cancellation",
            "created_at", "plan_id", "session_id", "session__number", "patient_id", "patient__first_name",
            "patient__last_name", "patient__mrn", "room_id", "clinician_id", "device_id",
            *(f"plan__{name}" for name in _PLAN_WINDOW_FIELDS), "plan__exosome_product_id", "consent_modality",
            "consent_exosome", "open_events",
            named=True,
        )
    )
    plans = {
        row.plan_id: PlanWindowRow(*(getattr(row, f"plan__{name}") for name in _PLAN_WINDOW_FIELDS))
        for row in rows if row.plan_id
    }
    days_appointments = Appointment.objects.filter(start__gte=start, start__lt=end)
    flags = appointment_flags(
        rows, plans,
        plan_ids=days_appointments.filter(plan__isnull=False).values("plan_id"),
        consented={
            row.plan_id for row in rows if row.plan_id and rules.consent_complete(
                row.consent_modality is not None, row.consent_exosome is not None,
                uses_exosome=row.plan__exosome_product_id is not None,
            )
        },
        open_events={row.patient_id: row.open_events for row in rows},
    )
    by_clinician = by == "clinician"
    resources = _day_resources(rows, day, by_clinician)
    rooms, devices = resources["room"], resources["device"]
    staff = {pk: _person(r.name, r.last_name, r.username) for pk, r in resources["staff"].items()}
    tz = timezone.get_current_timezone()
    # Reversed once for the page, not once per card.
    patient_url = patient_url_prefix()
    appointment_url = reverse("plans:appointment_cancel", args=[0]).removesuffix("0/cancel/")
    aftercare_before, aftercare_after = reverse("plans:aftercare", args=[0]).split("/0/")
    # The labels are lazy translations: turned into text once for the page, not once per card.
    kind_labels = {kind: str(label) for kind, label in _KIND_LABELS.items()}
    status_labels = {status: str(label) for status, label in _STATUS_LABELS.items()}
    grouped = defaultdict(list)
    for row in rows:
        start_local, end_local = row.start.astimezone(tz), row.end.astimezone(tz)
        what = kind_labels.get(row.kind, row.kind)
        if row.session__number:
            what += f" {row.session__number}"
        if row.followup_month:
            what += f" ({row.followup_month} mo)"
        if by_clinician:
            where = rooms[row.room_id].name if row.room_id else "no room"
        elif row.clinician_id:
            where = staff[row.clinician_id]
        else:
            where = "no clinician"
        if row.device_id:
            where += f" · {devices[row.device_id].name}"
        flag = flags[row.pk]
        card = CalendarCard(
            pk=row.pk,
            times=f"{start_local:%H:%M}–{end_local:%H:%M}",
            status=row.status,
            status_label=status_labels.get(row.status, row.status),
            badge=STATUS_BADGES.get(row.status, "light"),
            patient_url=f"{patient_url}{row.patient_id}/",
            patient_name=f"{row.patient__first_name} {row.patient__last_name}",
            mrn=row.patient__mrn,
            detail=f"{what} · {where}",
            cancel_reason=row.cancel_reason if row.status == AppointmentStatus.CANCELLED else "",
            badges=_badges(flag, row.late_cancellation),
            actions=can_change and row.status == AppointmentStatus.BOOKED,
            url=f"{appointment_url}{row.pk}/",
            aftercare_url=(
                f"{aftercare_before}/{row.session_id}/{aftercare_after}?print=1"
                if can_print and row.session_id and row.status == AppointmentStatus.COMPLETED else ""
            ),
            flags=flag,
        )
        grouped[row.clinician_id if by_clinician else row.room_id].append(card)
    unassigned = grouped.pop(None, [])
    if by_clinician:
        people = resources["staff"].values()
        columns = [
            (r.pk, staff[r.pk]) for r in sorted(people, key=lambda r: (r.last_name, r.name, r.username))
        ]
    else:
        columns = [(r.pk, r.name) for r in sorted(rooms.values(), key=lambda r: r.name)]
    return {
        "day": day,
        "by": by,
        "count": len(rows),
        "columns": [{"name": name, "appointments": grouped.get(pk, [])} for pk, name in columns],
        "unassigned": unassigned,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
    }


def week_view(day: dt.date, by: str = "room") -> dict:
    monday = day - dt.timedelta(days=day.weekday())
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    start, _ = day_bounds(monday)
    _, end = day_bounds(days[-1])
    appointments = list(_calendar_queryset().filter(start__gte=start, start__lt=end).order_by("start", "id"))
    flags = appointment_flags(appointments)
    columns, key = _columns(by, appointments, set(range(7)))
    cells = defaultdict(list)
    for appointment in appointments:
        appointment.flags = flags[appointment.pk]
        cells[(getattr(appointment, key), local_date(appointment.start))].append(appointment)
    rows = [
        {"resource": column, "days": [cells.get((column.pk, d), []) for d in days]} for column in columns
    ]
    unassigned = [cells.get((None, d), []) for d in days]
    return {
        "day": day,
        "by": by,
        "days": days,
        "rows": rows,
        "unassigned": unassigned if any(unassigned) else None,
        "previous_week": monday - dt.timedelta(days=7),
        "next_week": monday + dt.timedelta(days=7),
        "count": len(appointments),
    }


def day_sheet(day: dt.date) -> dict:
    start, end = day_bounds(day)
    appointments = list(
        _calendar_queryset()
        .filter(start__gte=start, start__lt=end, status__in=LIVE_APPOINTMENT_STATUSES)
        .order_by("start", "room__name")
    )
    flags = appointment_flags(appointments)
    for appointment in appointments:
        appointment.flags = flags[appointment.pk]
    return {"day": day, "appointments": appointments}


CallRow = namedtuple("CallRow", "start patient_url patient_name phone sent_at")


def reminders_to_call(*, day: dt.date | None = None) -> list[CallRow]:
    """Reminders logged for a phone call, for appointments still booked from the given day (today) on, soonest
    first: light rows with what the lists show (the day page shows them on every view)."""
    start, _ = day_bounds(day or timezone.localdate())
    patient_url = patient_url_prefix()
    rows = (
        ReminderLog.objects.filter(
            channel="phone", appointment__start__gte=start, appointment__status=AppointmentStatus.BOOKED
        )
        .order_by("appointment__start", "id")
        .values_list(
            "appointment__start", "appointment__patient_id", "appointment__patient__first_name",
            "appointment__patient__last_name", "appointment__patient__phone", "sent_at",
        )
    )
    return [
        CallRow(when, f"{patient_url}{patient_id}/", f"{first} {last}", phone, sent_at)
        for when, patient_id, first, last, phone, sent_at in rows
    ]


def appointment_detail(appointment_id: int) -> Appointment:
    return _calendar_queryset().get(pk=appointment_id)


# --------------------------------------------------------------------------- free slots


@dataclasses.dataclass
class Proposal:
    kind: str
    label: str
    session: TreatmentSession | None = None
    followup_month: int | None = None
    window: rules.Window | None = None
    start: dt.datetime | None = None
    minutes: int = DEFAULT_APPOINTMENT_MINUTES
    room: Room | None = None
    device: Device | None = None
    clinician: User | None = None


class Availability:
    """Rooms, devices, clinicians' hours and live bookings between two dates, loaded once."""

    def __init__(self, first_day: dt.date, last_day: dt.date, *, exclude_appointment_id=None,
                 exclude_appointment_ids=()):
        self.rooms = list(Room.objects.filter(is_active=True))
        self.devices = list(Device.objects.filter(is_active=True))
        self.hours = defaultdict(list)  # weekday -> [(clinician, start, end)]
        for hours in ClinicianHours.objects.select_related("clinician").filter(clinician__is_active=True):
            self.hours[hours.weekday].append((hours.clinician, hours.start, hours.end))
        self.lengths = dict(AppointmentLength.objects.values_list("kind", "minutes"))
        self.busy = defaultdict(list)  # ("room"|"device"|"clinician"|"patient", id) -> [(start, end)]
        start, _ = day_bounds(first_day)
        _, end = day_bounds(last_day)
        live = Appointment.objects.filter(status__in=LIVE_APPOINTMENT_STATUSES, start__lt=end, end__gt=start)
        excluded = {pk for pk in (exclude_appointment_id, *exclude_appointment_ids) if pk}
        if excluded:
            live = live.exclude(pk__in=excluded)
        for a in live.only("start", "end", "room_id", "device_id", "clinician_id", "patient_id"):
            self.hold(a.start, a.end, room_id=a.room_id, device_id=a.device_id, clinician_id=a.clinician_id,
                      patient_id=a.patient_id)

    def hold(self, start, end, *, room_id=None, device_id=None, clinician_id=None, patient_id=None):
        for name, pk in (("room", room_id), ("device", device_id), ("clinician", clinician_id), ("patient", patient_id)):
            if pk:
                self.busy[(name, pk)].append((start, end))

    def free(self, name: str, pk: int, start, end) -> bool:
        return all(end <= s or start >= e for s, e in self.busy[(name, pk)])

    def find(self, *, first_day, last_day, minutes, modality=None, patient_id, prefer_clinician_id=None,
             not_before=None):
        """The first slot from first_day to last_day with a clinician at work, a room and (for a session)
        a device that performs the modality, all free; None when there is none."""
        for _, moment, room, device, clinician in self.free_slots(
            first_day=first_day, last_day=last_day, minutes=minutes, modality=modality, patient_id=patient_id,
            prefer_clinician_id=prefer_clinician_id, not_before=not_before,
        ):
            return moment, room, device, clinician
        return None

    def fits(self, moment, *, minutes, room, device, clinician, patient_id) -> bool:
        """This exact slot: the clinician at work for all of it, and room, device, clinician and patient free."""
        end = moment + dt.timedelta(minutes=minutes)
        local_start, local_end = timezone.localtime(moment), timezone.localtime(end)
        working = local_start.date() == local_end.date() and any(
            who.pk == clinician.pk and begin <= local_start.time() and local_end.time() <= finish
            for who, begin, finish in self.hours[local_start.weekday()]
        )
        return (
            working
            and room is not None and room.is_active and self.free("room", room.pk, moment, end)
            and (device is None or (device.is_active and self.free("device", device.pk, moment, end)))
            and self.free("clinician", clinician.pk, moment, end)
            and self.free("patient", patient_id, moment, end)
        )

    def free_slots(self, *, first_day, last_day, minutes, modality=None, patient_id, prefer_clinician_id=None,
                   not_before=None):
        """Every free slot from first_day to last_day, in order, as (day, start, room, device, clinician)."""
        length = dt.timedelta(minutes=minutes)
        step = dt.timedelta(minutes=SLOT_STEP_MINUTES)
        devices = [d for d in self.devices if modality in (d.modalities or [])] if modality else [None]
        day = first_day
        while day <= last_day:
            candidates = []
            for clinician, begin, finish in self.hours[day.weekday()]:
                moment, close = at(day, begin), at(day, finish)
                rank = 0 if clinician.pk == prefer_clinician_id else 1
                while moment + length <= close:
                    if not_before is None or moment >= not_before:
                        candidates.append((moment, rank, clinician.username, clinician))
                    moment += step
            for moment, _, _, clinician in sorted(candidates, key=lambda c: c[:3]):
                end = moment + length
                if not self.free("clinician", clinician.pk, moment, end) or not self.free("patient", patient_id, moment, end):
                    continue
                room = next((r for r in self.rooms if self.free("room", r.pk, moment, end)), None)
                device = next((d for d in devices if d is None or self.free("device", d.pk, moment, end)), False)
                if room is not None and device is not False:
                    yield day, moment, room, device, clinician
            day += dt.timedelta(days=1)


def _find_in_window(availability, window, today, **kwargs):
    """The first free slot from the target day to the end of the window, else from the window's start: the
    course keeps its rhythm (S13, S16) and uses the early days only when the later ones are full."""
    found = availability.find(first_day=max(window.target, today), last_day=window.latest, **kwargs)
    if found is None and window.earliest < window.target:
        found = availability.find(first_day=max(window.earliest, today),
                                  last_day=window.target - dt.timedelta(days=1), **kwargs)
    return found


def propose_course(plan: Plan, *, now: dt.datetime | None = None) -> list[Proposal]:
    """For each unperformed, unbooked session the first free slot inside its window (each window counted
    from the previous session as performed, booked or proposed), then the follow-ups (S16). None of the
    proposals is saved: the desk confirms them with services.course_book."""
    now = now or timezone.now()
    today = local_date(now)
    cfg = plan_config(plan)
    sessions = list(plan.sessions.all())
    appointments = list(Appointment.objects.filter(plan=plan, status__in=LIVE_APPOINTMENT_STATUSES))
    rows = windows_for(plan, sessions, appointments)
    last_window = rows[-1].window if rows else None
    horizon_end = (last_window.latest if last_window else plan.start_date) + dt.timedelta(
        days=31 * (max(cfg.followup_months, default=0) + 3)
    )
    availability = Availability(today, horizon_end)
    minutes = appointment_minutes(AppointmentKind.SESSION, plan.modality, availability.lengths)
    proposals, extra_booked = [], {}
    latest_date = None
    for row in rows:
        number = row.session.number
        window = windows_for(plan, sessions, appointments, extra_booked)[number - 1].window
        if row.performed_on or row.appointment:
            latest_date = row.performed_on or local_date(row.appointment.start)
            continue
        if row.session.status not in BOOKABLE_SESSION_STATUSES:
            continue
        proposal = Proposal(AppointmentKind.SESSION, f"Session {number}", session=row.session, window=window,
                            minutes=minutes)
        found = _find_in_window(availability, window, today, minutes=minutes, modality=plan.modality,
                                patient_id=plan.patient_id, prefer_clinician_id=plan.created_by_id, not_before=now)
        if found:
            proposal.start, proposal.room, proposal.device, proposal.clinician = found
            end = proposal.start + dt.timedelta(minutes=minutes)
            availability.hold(proposal.start, end, room_id=proposal.room.pk, device_id=proposal.device.pk,
                              clinician_id=proposal.clinician.pk, patient_id=plan.patient_id)
            extra_booked[number] = latest_date = local_date(proposal.start)
        else:
            latest_date = window.target
        proposals.append(proposal)

    booked_months = {a.followup_month for a in appointments if a.kind == AppointmentKind.FOLLOW_UP}
    follow_minutes = appointment_minutes(AppointmentKind.FOLLOW_UP, lengths=availability.lengths)
    if latest_date is not None:
        for month, target in zip(cfg.followup_months, rules.followup_dates(latest_date, cfg=cfg), strict=True):
            if month in booked_months:
                continue
            window = rules.window_around(month, target, cfg)
            proposal = Proposal(AppointmentKind.FOLLOW_UP, f"Follow-up at {month} month{'s' if month > 1 else ''}",
                                followup_month=month, window=window, minutes=follow_minutes)
            found = _find_in_window(availability, window, today, minutes=follow_minutes, patient_id=plan.patient_id,
                                    prefer_clinician_id=plan.created_by_id, not_before=now)
            if found:
                proposal.start, proposal.room, _, proposal.clinician = found
                availability.hold(proposal.start, proposal.start + dt.timedelta(minutes=follow_minutes),
                                  room_id=proposal.room.pk, clinician_id=proposal.clinician.pk,
                                  patient_id=plan.patient_id)
            proposals.append(proposal)
    return proposals


# --------------------------------------------------------------------------- reschedule cascade (issue 12)


@dataclasses.dataclass
class CascadeRow:
    """A later booking of the course and where it would go when an earlier session's booking moves."""

    appointment: Appointment
    number: int
    window: rules.Window
    start: dt.datetime | None = None
    room: Room | None = None
    device: Device | None = None
    clinician: User | None = None
    kept_offset: bool = False  # True: moved by exactly the same offset; False: nearest free slot, or none


def later_session_bookings(appointment: Appointment) -> list[Appointment]:
    """Booked (not yet attended) sessions of the same course after this one, in session order."""
    if appointment.kind != AppointmentKind.SESSION or not appointment.session_id or not appointment.plan_id:
        return []
    return list(
        Appointment.objects.filter(
            plan_id=appointment.plan_id, kind=AppointmentKind.SESSION, status=AppointmentStatus.BOOKED,
            session__number__gt=appointment.session.number,
        )
        .select_related("session", "room", "device", "clinician")
        .order_by("session__number", "start")
    )


def propose_cascade(appointment: Appointment, *, start: dt.datetime, room, device, clinician,
                    now: dt.datetime | None = None) -> list[CascadeRow]:
    """Where each later booking of the course goes when this booking moves to ``start``: the same offset and
    resources when all are free and the day is inside its new window, otherwise the nearest free slot inside
    the window (rules.nearest_free_start); None when the window has none. Each window follows the session
    before it as proposed. Nothing is saved: services.appointment_reschedule_cascade applies the rows."""
    later = later_session_bookings(appointment)
    if not later:
        return []
    now = now or timezone.now()
    today = local_date(now)
    plan = appointment.plan
    offset = start - appointment.start
    moving = {appointment.pk} | {a.pk for a in later}
    sessions = list(plan.sessions.all())
    others = [
        a for a in Appointment.objects.filter(plan=plan, session__isnull=False, status__in=LIVE_APPOINTMENT_STATUSES)
        if a.pk not in moving
    ]
    cfg = plan_config(plan)
    days = [local_date(start), *(local_date(a.start + offset) for a in later)]
    slack = dt.timedelta(days=cfg.window_before_days + cfg.window_after_days + plan.interval_days)
    availability = Availability(max(min(days), today), max(days) + slack, exclude_appointment_ids=moving)
    availability.hold(start, start + (appointment.end - appointment.start), room_id=getattr(room, "pk", None),
                      device_id=getattr(device, "pk", None), clinician_id=getattr(clinician, "pk", None),
                      patient_id=appointment.patient_id)
    extra_booked = {appointment.session.number: local_date(start)}
    rows = []
    for booking in later:
        number = booking.session.number
        window = windows_for(plan, sessions, others, extra_booked)[number - 1].window
        row = CascadeRow(booking, number, window)
        minutes = int((booking.end - booking.start).total_seconds() // 60)
        preferred = booking.start + offset
        if (
            preferred >= now
            and not rules.outside_window(window, local_date(preferred))
            and availability.fits(preferred, minutes=minutes, room=booking.room, device=booking.device,
                                  clinician=booking.clinician, patient_id=booking.patient_id)
        ):
            row.start, row.room, row.device, row.clinician = preferred, booking.room, booking.device, booking.clinician
            row.kept_offset = True
        else:
            slots = list(availability.free_slots(
                first_day=max(window.earliest, today), last_day=window.latest, minutes=minutes,
                modality=plan.modality, patient_id=booking.patient_id, prefer_clinician_id=booking.clinician_id,
                not_before=now,
            ))
            chosen = rules.nearest_free_start(preferred, window, [(day, moment) for day, moment, *_ in slots])
            if chosen is not None:
                # Among equally near slots the free_slots order puts the booking's own clinician first.
                _, row.start, row.room, row.device, row.clinician = next(s for s in slots if s[1] == chosen)
        if row.start is not None:
            availability.hold(row.start, row.start + dt.timedelta(minutes=minutes), room_id=row.room.pk,
                              device_id=getattr(row.device, "pk", None), clinician_id=row.clinician.pk,
                              patient_id=booking.patient_id)
            extra_booked[number] = local_date(row.start)
        else:
            extra_booked[number] = local_date(booking.start)  # stays where it is
        rows.append(row)
    return rows


def window_flagged_bookings(*, now: dt.datetime | None = None, limit: int = 50) -> list[Appointment]:
    """Bookings a recorded session left outside their new window, still to come, soonest first."""
    now = now or timezone.now()
    return list(
        Appointment.objects.filter(
            window_flagged_at__isnull=False, status=AppointmentStatus.BOOKED, start__gte=day_bounds(local_date(now))[0]
        )
        .select_related("patient", "session")
        .order_by("start", "id")[:limit]
    )


def session_sequence(session: TreatmentSession, *, today: dt.date | None = None) -> dict:
    """Which session this is, where its window lies, whether today is inside it, whether an earlier session
    still stands in the way (rules.record_order_error), and the next step on the session page."""
    plan = session.plan
    today = today or timezone.localdate()
    sessions = list(plan.sessions.all())
    live = list(Appointment.objects.filter(plan=plan, session__isnull=False, status__in=LIVE_APPOINTMENT_STATUSES))
    row = next(r for r in windows_for(plan, sessions, live) if r.session.pk == session.pk)
    order_error = rules.record_order_error(
        session.number, {s.number: s.status for s in sessions if s.number < session.number}
    )
    return {
        "window": row.window,
        "of": plan.sessions_planned,
        "booking": row.appointment,
        "today_outside": rules.outside_window(row.window, today),
        "order_error": order_error,
    }


def booking_choices() -> dict:
    """Rooms, devices and clinicians for the booking forms."""
    clinician_ids = ClinicianHours.objects.values_list("clinician_id", flat=True)
    return {
        "rooms": Room.objects.filter(is_active=True),
        "devices": Device.objects.filter(is_active=True),
        "clinicians": User.objects.filter(is_active=True, pk__in=clinician_ids).order_by("last_name", "first_name"),
    }


def bookable_sessions_queryset(patient):
    """Sessions of the patient's active plans not performed and not booked yet."""
    return (
        TreatmentSession.objects.filter(
            plan__patient=patient, plan__state="active", status__in=BOOKABLE_SESSION_STATUSES
        )
        .exclude(appointments__status__in=LIVE_APPOINTMENT_STATUSES)
        .select_related("plan")
        .order_by("plan_id", "number")
    )


def bookable_sessions(patient) -> list[TreatmentSession]:
    return list(bookable_sessions_queryset(patient))


# --------------------------------------------------------------------------- resources and feeds


def resources_overview() -> dict:
    return {
        "rooms": list(Room.objects.all()),
        "devices": list(Device.objects.all()),
        "hours": list(ClinicianHours.objects.select_related("clinician").order_by(
            "clinician__last_name", "clinician_id", "weekday", "start")),
        "lengths": list(AppointmentLength.objects.all()),
    }


def feed_token_for(user) -> CalendarFeedToken | None:
    return CalendarFeedToken.objects.filter(user=user).first()


def feed_appointments(token: str, *, now: dt.datetime | None = None):
    """(clinician, appointments) for a feed token, or None for an unknown token."""
    feed = CalendarFeedToken.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if feed is None:
        return None
    now = now or timezone.now()
    appointments = list(
        Appointment.objects.filter(
            clinician=feed.user, status__in=LIVE_APPOINTMENT_STATUSES,
            start__gte=now - dt.timedelta(days=30), start__lt=now + dt.timedelta(days=366),
        ).select_related("patient", "room", "device").order_by("start")
    )
    return feed.user, appointments


def reminder_candidates(*, now: dt.datetime, days_before: int) -> list[int]:
    """Booked appointments starting within the next days_before days that have no reminder logged yet."""
    return list(
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED, start__gt=now, start__lte=now + dt.timedelta(days=days_before),
            reminders__isnull=True,
        ).order_by("start").values_list("pk", flat=True)
    )


# --------------------------------------------------------------------------- panels


def _plan_panel(plan, user):
    if not user.has_perm("plans.view_appointment"):
        return None
    context = plan_schedule(plan)
    context["can_book"] = user.has_perm("plans.add_appointment") and plan.state == "active"
    return context


def _patient_panel(patient, user):
    if not user.has_perm("plans.view_appointment"):
        return None
    upcoming = list(
        Appointment.objects.filter(patient=patient, start__gte=day_bounds(timezone.localdate())[0])
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("room", "clinician", "session")
        .only(  # what the panel shows of each booking
            "start", "kind", "status", "session__number", "room__name",
            "clinician__first_name", "clinician__last_name", "clinician__username",
        )
        .order_by("start")[:20]
    )
    can_book = user.has_perm("plans.add_appointment")
    active_plans = list(Plan.objects.active().filter(patient=patient)) if can_book else []
    return {"upcoming_appointments": upcoming, "bookable_plans": active_plans, "can_book": can_book,
            "patient_id": patient.pk}


def _dashboard_panel(user):
    if not user.has_perm("plans.view_appointment"):
        return None
    start, end = day_bounds(timezone.localdate())
    today = list(
        Appointment.objects.filter(start__gte=start, start__lt=end)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "room", "clinician")
        .order_by("start")
    )
    flagged = window_flagged_bookings() if user.has_perm("plans.change_appointment") else []
    return {"schedule_today": today, "window_flagged": flagged}


register_plan_panel("plans/scheduling/includes/plan_panel.html", _plan_panel)
register_patient_panel("plans/scheduling/includes/patient_panel.html", _patient_panel)
register_panel("plans/scheduling/includes/dashboard_panel.html", _dashboard_panel)

