"""Scheduling pages: calendars, booking a whole course, single bookings, desk actions, resources, reminders,
calendar feeds. Thin: access check → form → one service/selector call → render or redirect."""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from clinic import datachanges, fragments
from clinic.http import require_perm, safe_next
from clinic.services import access_log_record
from patients.models import Patient
from plans.config import rule_config
from plans.forms import scheduling as forms
from plans.models import (
    Appointment,
    AppointmentKind,
    AppointmentLength,
    ClinicianHours,
    Device,
    Plan,
    Room,
)
from plans.selectors import scheduling as selectors
from plans.services import scheduling as services

MSG_BOOKED_COURSE = "Booked {count} appointment{s} for {name}: {dates}."
MSG_BOOKED = "Booked {kind} for {name} on {start:%a %d %b %Y at %H:%M}."
MSG_MOVED = "Moved to {start:%a %d %b %Y at %H:%M}."
MSG_MOVED_WITH_LATER = "Moved to {start:%a %d %b %Y at %H:%M}; with it {later}."
MSG_NOW_OUTSIDE = "Now outside their window (not moved): {sessions}. Review them."
MSG_CHECKED_IN = "{name} is checked in."
MSG_NO_SHOW = "{name} recorded as a no-show."
MSG_CANCELLED = "Cancelled."
MSG_CANCELLED_LATE = "Cancelled — late cancellation (under {hours} hours' notice)."
MSG_BAD_DATE = "{error} Showing today."
MSG_FEED_NEW = "Your calendar feed has a new address; the old one no longer works."

RESOURCE_FORMS = {
    "room": (Room, forms.RoomForm, "Room"),
    "device": (Device, forms.DeviceForm, "Device"),
    "hours": (ClinicianHours, forms.ClinicianHoursForm, "Working hours"),
    "length": (AppointmentLength, forms.AppointmentLengthForm, "Appointment length"),
}


def _appointment_for(request, appointment_id, perm="plans.change_appointment") -> Appointment:
    require_perm(request, perm)
    return get_object_or_404(Appointment.objects.select_related("patient", "plan", "session"), pk=appointment_id)


def _back(request, appointment) -> str:
    return safe_next(request, f"{reverse('plans:schedule_day')}?date={selectors.local_date(appointment.start):%Y-%m-%d}")


def _calendar_query(request):
    form = forms.CalendarQueryForm(request.GET)
    if request.GET.get("date") and not form.is_valid() and "date" in form.errors:
        messages.warning(request, MSG_BAD_DATE.format(error=" ".join(form.errors["date"])))
    return form.day(), form.by_value()


# --------------------------------------------------------------------------- calendars


@require_GET
def schedule_day(request):
    require_perm(request, "plans.view_appointment")
    day, by = _calendar_query(request)
    here = request.get_full_path()

    def render_content(csrf_token):
        can_change = request.user.has_perm("plans.change_appointment")  # once for the page, not once per card
        context = selectors.day_view(day, by, can_change=can_change, can_print=request.user.has_perm("plans.print_aftercare"))
        context |= {
            "can_change_appointments": can_change, "here": here, "here_quoted": quote(here, safe=""),
            "csrf_token": csrf_token,
        }
        return {"body": render_to_string("plans/scheduling/includes/day_body.html", context, request)}

    start, end = selectors.day_bounds(day)
    fragment = fragments.cached(
        request, "day calendar", lambda: datachanges.versions_of_day(start, end),
        (day, by, here, fragments.permission_signature(request.user)), render_content,
        keep=set(request.GET) <= {"date", "by"},  # not one kept copy per made-up query string
    )
    return render(request, "plans/scheduling/day.html", {
        "day": day, "fragment": fragment, "to_call": selectors.reminders_to_call(day=day),
    })


@require_GET
def schedule_week(request):
    require_perm(request, "plans.view_appointment")
    day, by = _calendar_query(request)
    return render(request, "plans/scheduling/week.html", selectors.week_view(day, by))


@require_GET
def schedule_day_sheet(request):
    require_perm(request, "plans.view_appointment")
    day, _ = _calendar_query(request)
    return render(request, "plans/scheduling/day_sheet.html", selectors.day_sheet(day))


@require_GET
def schedule_reminders(request):
    require_perm(request, "plans.view_appointment")
    return render(request, "plans/scheduling/reminders.html", {"to_call": selectors.reminders_to_call()})


# --------------------------------------------------------------------------- booking


def _course_rows(plan, proposals, formset):
    by_key = {_proposal_key(p): p for p in proposals}
    return [(form, by_key.get(form["key"].value())) for form in formset]


def _proposal_key(proposal) -> str:
    if proposal.session is not None:
        return f"session-{proposal.session.pk}"
    return f"followup-{proposal.followup_month}"


def _initial(proposal) -> dict:
    start = timezone.localtime(proposal.start) if proposal.start else None
    return {
        "key": _proposal_key(proposal),
        "include": True,
        "date": start.date() if start else None,
        "time": start.time() if start else None,
        "room": proposal.room,
        "device": proposal.device,
        "clinician": proposal.clinician,
    }


def _slots(plan, proposals, formset) -> list:
    by_key = {_proposal_key(p): p for p in proposals}
    sessions = {f"session-{s.pk}": s for s in plan.sessions.all()}
    slots = []
    for form in formset:
        data = form.cleaned_data
        if not data.get("include"):
            continue
        key = data["key"]
        proposal = by_key.get(key)
        label = proposal.label if proposal else key
        if key in sessions:
            slots.append(services.Slot(AppointmentKind.SESSION, form.start(), data["room"], data["clinician"],
                                       device=data["device"], session=sessions[key], label=label))
        elif key.startswith("followup-") and key[9:].isdigit():
            slots.append(services.Slot(AppointmentKind.FOLLOW_UP, form.start(), data["room"], data["clinician"],
                                       followup_month=int(key[9:]), label=label))
    return slots


def plan_book(request, plan_id):
    """Book a whole course: the first free slot in each session's window and the follow-ups, editable."""
    require_perm(request, "plans.add_appointment")
    plan = get_object_or_404(Plan.objects.select_related("patient"), pk=plan_id)
    if plan.state != "active":
        messages.error(request, services.ERR_PLAN_NOT_ACTIVE)
        return redirect(plan.patient)
    proposals = selectors.propose_course(plan)
    confirm = forms.ConfirmOutsideForm(request.POST or None)
    if request.method == "POST":
        formset = forms.CourseSlotFormSet(request.POST)
        if formset.is_valid() and confirm.is_valid():
            try:
                booked = services.course_book(
                    plan=plan, slots=_slots(plan, proposals, formset), by=request.user,
                    confirm_outside_window=confirm.cleaned_data["confirm_outside_window"],
                )
            except services.OutsideWindow as exc:
                messages.warning(request, exc.message)
                return _render_book(request, plan, proposals, formset, confirm, needs_confirmation=True)
            except services.BookingError as exc:
                messages.error(request, exc.message)
            else:
                dates = ", ".join(f"{timezone.localtime(a.start):%d %b %H:%M}" for a in booked)
                messages.success(request, MSG_BOOKED_COURSE.format(
                    count=len(booked), s="" if len(booked) == 1 else "s", name=plan.patient.full_name, dates=dates))
                return redirect(plan.patient)
    else:
        formset = forms.CourseSlotFormSet(initial=[_initial(p) for p in proposals])
    return _render_book(request, plan, proposals, formset, confirm)


def _render_book(request, plan, proposals, formset, confirm, *, needs_confirmation=False):
    context = {
        "plan": plan,
        "rows": _course_rows(plan, proposals, formset),
        "formset": formset,
        "confirm": confirm,
        "needs_confirmation": needs_confirmation,
        "schedule": selectors.plan_schedule(plan),
    }
    access_log_record(user=request.user, patients=[plan.patient_id], path=request.path)
    return render(request, "plans/scheduling/book_course.html", context)


def appointment_new(request, patient_id):
    require_perm(request, "plans.add_appointment")
    patient = get_object_or_404(Patient, pk=patient_id)
    sessions = selectors.bookable_sessions(patient)
    initial = {"kind": AppointmentKind.SESSION if sessions else AppointmentKind.CONSULTATION}
    if sessions:
        initial["session"] = sessions[0]
    form = forms.AppointmentForm(request.POST or None, initial=initial,
                                 sessions=selectors.bookable_sessions_queryset(patient))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        session = data["session"] if data["kind"] == AppointmentKind.SESSION else None
        slot = services.Slot(data["kind"], form.start(), data["room"], data["clinician"], device=data["device"],
                             session=session)
        try:
            appointment = services.appointment_book(
                patient=patient, slot=slot, by=request.user, notes=data["notes"],
                confirm_outside_window=data["confirm_outside_window"],
            )
        except services.BookingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, MSG_BOOKED.format(kind=appointment.get_kind_display().lower(),
                                                        name=patient.full_name, start=timezone.localtime(appointment.start)))
            return redirect(_back(request, appointment))
    access_log_record(user=request.user, patients=[patient], path=request.path)
    return render(request, "plans/scheduling/appointment_form.html",
                  {"form": form, "patient": patient, "title": f"Book an appointment for {patient.full_name}"})


def _day_of(appointment) -> str:
    """After a move the desk lands on the day of the new slot, not back on the old one."""
    return f"{reverse('plans:schedule_day')}?date={selectors.local_date(appointment.start):%Y-%m-%d}"


def _cascade_initial(row) -> dict:
    start = timezone.localtime(row.start) if row.start else None
    return {"include": start is not None, "date": start.date() if start else None,
            "time": start.time() if start else None, "room": row.room, "device": row.device,
            "clinician": row.clinician}


def _reschedule_cascade(request, appointment, form):
    """Step two of a move with the later sessions: each proposed slot is shown; "Move all" applies them and
    the move itself in one transaction (services.appointment_reschedule_cascade), or nothing moves."""
    data = form.cleaned_data
    rows = selectors.propose_cascade(appointment, start=form.start(), room=data["room"], device=data["device"],
                                     clinician=data["clinician"])
    applying = "apply" in request.POST
    row_forms = [
        forms.CascadeRowForm(request.POST if applying else None, prefix=f"later-{row.appointment.pk}",
                             initial=_cascade_initial(row))
        for row in rows
    ]
    if applying and all(f.is_valid() for f in row_forms):
        moves = [
            services.Move(row.appointment, f.start(), f.cleaned_data["room"], f.cleaned_data["clinician"],
                          device=f.cleaned_data["device"])
            for row, f in zip(rows, row_forms, strict=True) if f.cleaned_data.get("include")
        ]
        try:
            moved = services.appointment_reschedule_cascade(
                appointment=appointment, start=form.start(), room=data["room"], device=data["device"],
                clinician=data["clinician"], later=moves, by=request.user,
                confirm_outside_window=data["confirm_outside_window"],
            )
        except services.BookingError as exc:
            messages.error(request, exc.message)
            row_forms = [forms.CascadeRowForm(prefix=f"later-{row.appointment.pk}", initial=_cascade_initial(row))
                         for row in rows]
        else:
            messages.success(request, MSG_MOVED_WITH_LATER.format(
                start=timezone.localtime(moved[0].start),
                later=", ".join(f"session {a.session.number} to {timezone.localtime(a.start):%a %d %b %H:%M}"
                                for a in moved[1:]) or "none"))
            return redirect(_day_of(moved[0]))
    return render(request, "plans/scheduling/reschedule_cascade.html", {
        "form": form, "appointment": appointment, "patient": appointment.patient,
        "rows": list(zip(rows, row_forms, strict=True)), "offset": form.start() - appointment.start,
    })


def appointment_reschedule(request, appointment_id):
    appointment = _appointment_for(request, appointment_id)
    start = timezone.localtime(appointment.start)
    later = selectors.later_session_bookings(appointment) if appointment.status == "booked" else []
    form = forms.RescheduleForm(request.POST or None, later_count=len(later), initial={
        "date": start.date(), "time": start.time(), "room": appointment.room_id, "device": appointment.device_id,
        "clinician": appointment.clinician_id,
    })
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data.get("move_later"):
            return _reschedule_cascade(request, appointment, form)
        try:
            moved, flagged = services.appointment_reschedule(
                appointment=appointment, start=form.start(), room=data["room"], device=data["device"],
                clinician=data["clinician"], by=request.user,
                confirm_outside_window=data["confirm_outside_window"],
            )
        except services.BookingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, MSG_MOVED.format(start=timezone.localtime(moved.start)))
            if flagged:
                messages.warning(request, MSG_NOW_OUTSIDE.format(
                    sessions=", ".join(f"session {row.session.number}" for row in flagged)))
            return redirect(_day_of(moved))
    access_log_record(user=request.user, patients=[appointment.patient_id], path=request.path)
    return render(request, "plans/scheduling/appointment_form.html", {
        "form": form, "patient": appointment.patient, "appointment": appointment,
        "title": f"Move {appointment.get_kind_display().lower()} for {appointment.patient.full_name}",
    })


def appointment_cancel(request, appointment_id):
    appointment = _appointment_for(request, appointment_id)
    form = forms.CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = services.appointment_cancel(appointment=appointment, reason=form.cleaned_data["reason"],
                                                    by=request.user)
        except services.BookingError as exc:
            form.add_error(None, exc.message)
        else:
            if cancelled.late_cancellation:
                messages.warning(request, MSG_CANCELLED_LATE.format(hours=rule_config().late_cancel_hours))
            else:
                messages.success(request, MSG_CANCELLED)
            return redirect(_back(request, cancelled))
    access_log_record(user=request.user, patients=[appointment.patient_id], path=request.path)
    return render(request, "plans/scheduling/appointment_form.html", {
        "form": form, "patient": appointment.patient, "appointment": appointment,
        "title": f"Cancel {appointment.get_kind_display().lower()} for {appointment.patient.full_name}",
    })


@require_POST
def appointment_check_in(request, appointment_id):
    appointment = _appointment_for(request, appointment_id)
    try:
        services.appointment_check_in(appointment=appointment, by=request.user)
    except services.BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, MSG_CHECKED_IN.format(name=appointment.patient.full_name))
    return redirect(_back(request, appointment))


@require_POST
def appointment_no_show(request, appointment_id):
    appointment = _appointment_for(request, appointment_id)
    try:
        services.appointment_no_show(appointment=appointment, by=request.user)
    except services.BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, MSG_NO_SHOW.format(name=appointment.patient.full_name))
    return redirect(_back(request, appointment))


# --------------------------------------------------------------------------- resources


@require_GET
def resources(request):
    require_perm(request, "plans.manage_resources")
    return render(request, "plans/scheduling/resources.html", selectors.resources_overview())


def resource_edit(request, kind, pk=None):
    require_perm(request, "plans.manage_resources")
    if kind not in RESOURCE_FORMS:
        raise Http404
    model, form_class, label = RESOURCE_FORMS[kind]
    instance = get_object_or_404(model, pk=pk) if pk else None
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.resource_save(form=form)
        messages.success(request, f"{label} saved.")
        return redirect("plans:resources")
    title = f"Edit {label.lower()}" if instance else f"New {label.lower()}"
    return render(request, "plans/scheduling/resource_form.html", {"form": form, "title": title})


@require_POST
def hours_delete(request, pk):
    require_perm(request, "plans.manage_resources")
    services.clinician_hours_delete(hours=get_object_or_404(ClinicianHours, pk=pk))
    messages.success(request, "Working hours removed.")
    return redirect("plans:resources")


# --------------------------------------------------------------------------- calendar feeds


@require_GET
def calendar_settings(request):
    require_perm(request, "plans.view_appointment")
    feed = selectors.feed_token_for(request.user)
    feed_url = request.build_absolute_uri(reverse("plans:calendar_feed", args=[feed.token])) if feed else None
    return render(request, "plans/scheduling/calendar_settings.html", {"feed": feed, "feed_url": feed_url})


@require_POST
def calendar_regenerate(request):
    require_perm(request, "plans.view_appointment")
    services.feed_token_regenerate(user=request.user)
    messages.success(request, MSG_FEED_NEW)
    return redirect("plans:calendar_settings")


@login_not_required
@never_cache
@require_GET
def calendar_feed(request, token):
    """No login: calendar apps cannot sign in, so the secret token in the address authenticates."""
    found = selectors.feed_appointments(token)
    if found is None:
        raise Http404
    _, appointments = found
    return HttpResponse(services.clinician_feed_ics(appointments), content_type="text/calendar; charset=utf-8")


urlpatterns = [
    path("schedule/", schedule_day, name="schedule_day"),
    path("schedule/week/", schedule_week, name="schedule_week"),
    path("schedule/day-sheet/", schedule_day_sheet, name="schedule_day_sheet"),
    path("schedule/reminders/", schedule_reminders, name="schedule_reminders"),
    path("plans/<int:plan_id>/book/", plan_book, name="plan_book"),
    path("patients/<int:patient_id>/appointments/new/", appointment_new, name="appointment_new"),
    path("appointments/<int:appointment_id>/move/", appointment_reschedule, name="appointment_reschedule"),
    path("appointments/<int:appointment_id>/cancel/", appointment_cancel, name="appointment_cancel"),
    path("appointments/<int:appointment_id>/check-in/", appointment_check_in, name="appointment_check_in"),
    path("appointments/<int:appointment_id>/no-show/", appointment_no_show, name="appointment_no_show"),
    path("resources/", resources, name="resources"),
    path("resources/<str:kind>/new/", resource_edit, name="resource_new"),
    path("resources/<str:kind>/<int:pk>/", resource_edit, name="resource_edit"),
    path("resources/hours/<int:pk>/delete/", hours_delete, name="hours_delete"),
    path("calendar/", calendar_settings, name="calendar_settings"),
    path("calendar/regenerate/", calendar_regenerate, name="calendar_regenerate"),
    path("calendar/<str:token>.ics", calendar_feed, name="calendar_feed"),
]
