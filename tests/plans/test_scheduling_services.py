"""Scheduling services and selectors: windows from real sessions and bookings, whole-course proposals, the
cascade when a session moves, and every refusal leaving the database unchanged."""

import datetime as dt

import pytest
from django.utils import timezone

from plans.models import Appointment, AppointmentStatus
from plans.selectors import scheduling as sel
from plans.services import scheduling as svc
from tests.factories import AppointmentFactory, DeviceFactory, PatientFactory, UserFactory
from tests.plans.scheduling_support import active_plan, aware, clinic

pytestmark = pytest.mark.django_db
NOW = aware("2030-01-06", "12:00")  # a Sunday: the course starts on Monday 7 January 2030
D = dt.date.fromisoformat


def _perform(session, day):
    session.status = "completed"
    session.performed_at = aware(day, "10:00")
    session.save()


def _book_on(plan, number, day, setup, time="09:00"):
    session = plan.sessions.get(number=number)
    return svc.appointment_book(
        patient=plan.patient, by=UserFactory(role="front_desk"), now=aware("2029-12-01"), confirm_outside_window=True,
        slot=svc.Slot("session", aware(day, time), setup["rooms"][0], setup["clinician"],
                      device=setup["devices"][0], session=session),
    )


@pytest.mark.parametrize(
    "performed, booked, expected_targets",
    [
        # Nothing done yet: every 28 days from the start.
        ({}, {}, ["2030-01-07", "2030-02-04", "2030-03-04", "2030-04-01"]),
        # Session 1 performed a week late: every later target moves a week (interval from the actual date).
        ({1: "2030-01-14"}, {}, ["2030-01-07", "2030-02-11", "2030-03-11", "2030-04-08"]),
        # Performed early, then session 2 booked late: targets follow each actual date in turn.
        ({1: "2030-01-04"}, {2: "2030-02-08"}, ["2030-01-07", "2030-02-01", "2030-03-08", "2030-04-05"]),
        # Performed date wins over a booking of the same session.
        ({1: "2030-01-09"}, {1: "2030-01-07"}, ["2030-01-07", "2030-02-06", "2030-03-06", "2030-04-03"]),
    ],
)
def test_session_windows_from_performed_and_booked_sessions(performed, booked, expected_targets):
    setup = clinic()
    plan = active_plan()
    for number, day in booked.items():
        _book_on(plan, number, day, setup)
    for number, day in performed.items():
        _perform(plan.sessions.get(number=number), day)

    rows = sel.plan_schedule(plan)["session_rows"]

    assert [row.window.target for row in rows] == [D(d) for d in expected_targets]
    assert [(row.window.earliest, row.window.latest) for row in rows] == [
        (D(d) - dt.timedelta(days=3), D(d) + dt.timedelta(days=7)) for d in expected_targets
    ]


def test_whole_course_proposal_takes_the_first_free_slots_and_follow_ups():
    setup = clinic()
    plan = active_plan(clinician=setup["clinician"])
    # Room A is taken at 09:00 on the first day: the proposal takes Room B at 09:00.
    AppointmentFactory(start=aware("2030-01-07", "09:00"), room=setup["rooms"][0], clinician=UserFactory(role="clinician"))

    proposals = sel.propose_course(plan, now=NOW)

    assert [(p.label, timezone.localtime(p.start).strftime("%Y-%m-%d %H:%M")) for p in proposals] == [
        ("Session 1", "2030-01-07 09:00"),
        ("Session 2", "2030-02-04 09:00"),
        ("Session 3", "2030-03-04 09:00"),
        ("Session 4", "2030-04-01 09:00"),
        ("Follow-up at 1 month", "2030-05-01 09:00"),
        ("Follow-up at 3 months", "2030-07-01 09:00"),
        ("Follow-up at 6 months", "2030-10-01 09:00"),
    ]
    assert proposals[0].room.name == "Room B"
    assert {p.device.name for p in proposals[:4]} == {"Dermapen"}  # the device that performs the plan's modality
    assert proposals[4].device is None


def test_proposal_skips_weekends_busy_clinicians_and_counts_from_a_late_session():
    setup = clinic()
    plan = active_plan(start="2030-01-05", clinician=setup["clinician"])  # a Saturday
    _perform(plan.sessions.get(number=1), "2030-01-08")
    AppointmentFactory(start=aware("2030-02-05", "09:00"), end=aware("2030-02-05", "12:00"),
                       room=None, clinician=setup["clinician"])

    proposals = sel.propose_course(plan, now=NOW)

    # Session 2 target = 8 Jan + 28 = 5 Feb (Tuesday); the clinician is busy until noon that day.
    assert proposals[0].label == "Session 2"
    assert timezone.localtime(proposals[0].start) == aware("2030-02-05", "12:00")


def test_book_whole_course_then_moving_a_session_flags_the_next_booking_without_moving_it():
    setup = clinic()
    desk = UserFactory(role="front_desk")
    plan = active_plan(clinician=setup["clinician"])
    proposals = sel.propose_course(plan, now=NOW)
    slots = [svc.Slot(p.kind, p.start, p.room, p.clinician, device=p.device, session=p.session,
                      followup_month=p.followup_month, label=p.label) for p in proposals]
    booked = svc.course_book(plan=plan, slots=slots, by=desk, now=NOW)
    assert len(booked) == 7 and Appointment.objects.filter(plan=plan).count() == 7
    session2 = booked[1]
    session3_start = booked[2].start

    # Outside session 2's window (1–11 Feb): refused until confirmed, nothing changes.
    with pytest.raises(svc.OutsideWindow):
        svc.appointment_reschedule(appointment=session2, start=aware("2030-02-13"), room=session2.room,
                                   device=session2.device, clinician=session2.clinician, by=desk, now=NOW)
    session2.refresh_from_db()
    assert session2.start == aware("2030-02-04")

    moved, flagged = svc.appointment_reschedule(
        appointment=session2, start=aware("2030-02-11"), room=session2.room, device=session2.device,
        clinician=session2.clinician, by=desk, now=NOW,
    )

    rows = sel.plan_schedule(plan)["session_rows"]
    assert [row.window.target for row in rows] == [D("2030-01-07"), D("2030-02-04"), D("2030-03-11"), D("2030-04-01")]
    assert [row.outside_window for row in rows] == [False, False, True, False]
    assert [row.session.number for row in flagged] == [3]
    assert Appointment.objects.get(session__plan=plan, session__number=3).start == session3_start  # not moved
    flags = sel.appointment_flags(list(Appointment.objects.filter(plan=plan).select_related("plan")))
    assert [flags[a.pk].outside_window for a in booked[:4]] == [False, False, True, False]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"room": "same"}, svc.ERR_ROOM_BUSY.format(name="Room A")),
        ({"room": "other", "clinician": "other"}, svc.ERR_DEVICE_BUSY.format(name="Dermapen")),
        ({"room": "other", "device": "other"}, svc.ERR_CLINICIAN_BUSY.format(name="Hana Hours")),
        ({"time": "08:00", "room": "other", "device": "other"}, svc.ERR_NOT_WORKING.format(name="Hana Hours")),
        ({"time": "16:30", "room": "other", "device": "other"}, svc.ERR_NOT_WORKING.format(name="Hana Hours")),
    ],
)
def test_overlapping_or_off_duty_booking_is_refused_and_nothing_is_saved(change, message):
    setup = clinic()
    other_clinician = UserFactory(role="clinician", username="dr_other", first_name="Otto", last_name="Other")
    from plans.models import ClinicianHours

    ClinicianHours.objects.create(clinician=other_clinician, weekday=0, start=dt.time(9), end=dt.time(17))
    first = active_plan(clinician=setup["clinician"])
    _book_on(first, 1, "2030-01-07", setup, time="09:30")
    second = active_plan()
    before = list(Appointment.objects.values_list("pk", "start", "room_id"))

    slot = svc.Slot(
        "session", aware("2030-01-07", change.get("time", "10:00")),
        setup["rooms"][1] if change.get("room") == "other" else setup["rooms"][0],
        other_clinician if change.get("clinician") == "other" else setup["clinician"],
        device=DeviceFactory(name="Dermapen 2") if change.get("device") == "other" else setup["devices"][0],
        session=second.sessions.get(number=1),
    )
    with pytest.raises(svc.BookingError) as raised:
        svc.appointment_book(patient=second.patient, slot=slot, by=UserFactory(role="front_desk"), now=NOW)

    assert raised.value.message == message
    assert list(Appointment.objects.values_list("pk", "start", "room_id")) == before


def test_cancelled_appointments_free_their_slot():
    setup = clinic()
    first = active_plan(clinician=setup["clinician"])
    appointment = _book_on(first, 1, "2030-01-07", setup)
    svc.appointment_cancel(appointment=appointment, reason="Unwell", by=UserFactory(role="front_desk"), now=NOW)
    second = active_plan()
    rebooked = _book_on(second, 1, "2030-01-07", setup)
    assert rebooked.room == appointment.room


@pytest.mark.parametrize(
    "setup_plan, message",
    [
        (lambda plan: plan.sessions.filter(number=1).update(status="completed"), svc.ERR_SESSION_DONE.format(number=1)),
        (lambda plan: type(plan).objects.filter(pk=plan.pk).update(state="draft"), svc.ERR_PLAN_NOT_ACTIVE),
    ],
)
def test_sessions_of_inactive_plans_or_already_performed_cannot_be_booked(setup_plan, message):
    setup = clinic()
    plan = active_plan()
    setup_plan(plan)
    with pytest.raises(svc.BookingError, match=message):
        _book_on(plan, 1, "2030-01-07", setup)
    assert not Appointment.objects.exists()


def test_device_must_perform_the_plans_modality_and_sessions_are_booked_once():
    setup = clinic()
    plan = active_plan()
    slot = svc.Slot("session", aware("2030-01-07"), setup["rooms"][0], setup["clinician"],
                    device=setup["devices"][1], session=plan.sessions.get(number=1))
    with pytest.raises(svc.BookingError, match="Thulium 1927 does not perform Microneedling"):
        svc.appointment_book(patient=plan.patient, slot=slot, by=UserFactory(), now=NOW)
    _book_on(plan, 1, "2030-01-07", setup)
    with pytest.raises(svc.BookingError, match=svc.ERR_SESSION_BOOKED.format(number=1)):
        _book_on(plan, 1, "2030-01-08", setup)
    assert Appointment.objects.count() == 1


def test_course_booking_is_all_or_nothing():
    setup = clinic()
    plan = active_plan(clinician=setup["clinician"])
    AppointmentFactory(start=aware("2030-03-04", "09:00"), room=setup["rooms"][0], clinician=setup["clinician"])
    sessions = list(plan.sessions.order_by("number"))
    slots = [
        svc.Slot("session", aware(day), setup["rooms"][0], setup["clinician"], device=setup["devices"][0],
                 session=session, label=f"Session {session.number}")
        for session, day in zip(sessions[:3], ["2030-01-07", "2030-02-04", "2030-03-04"], strict=True)
    ]
    with pytest.raises(svc.BookingError) as raised:
        svc.course_book(plan=plan, slots=slots, by=UserFactory(), now=NOW)
    assert raised.value.row == 2
    assert raised.value.message.startswith("Session 3: ")
    assert not Appointment.objects.filter(plan=plan).exists()


@pytest.mark.parametrize(
    "hours_before, late",
    [(48, False), (24, False), (23, True), (1, True)],
)
def test_cancellation_under_the_notice_period_is_flagged_late(hours_before, late):
    appointment = AppointmentFactory(start=aware("2030-01-07", "10:00"))
    cancelled = svc.appointment_cancel(appointment=appointment, reason="Travel", by=UserFactory(),
                                       now=appointment.start - dt.timedelta(hours=hours_before))
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.late_cancellation is late
    assert cancelled.cancel_reason == "Travel"


def test_check_in_only_on_the_day_and_no_show_only_after_the_start():
    appointment = AppointmentFactory(start=aware("2030-01-07", "10:00"))
    with pytest.raises(svc.BookingError, match=svc.ERR_CHECK_IN_DAY):
        svc.appointment_check_in(appointment=appointment, by=UserFactory(), now=aware("2030-01-06", "10:00"))
    with pytest.raises(svc.BookingError, match=svc.ERR_NO_SHOW_EARLY):
        svc.appointment_no_show(appointment=appointment, by=UserFactory(), now=aware("2030-01-07", "09:59"))
    checked = svc.appointment_check_in(appointment=appointment, by=UserFactory(), now=aware("2030-01-07", "09:50"))
    assert checked.status == AppointmentStatus.CHECKED_IN and checked.checked_in_at is not None
    with pytest.raises(svc.BookingError, match="checked in; it cannot be marked a no-show"):
        svc.appointment_no_show(appointment=appointment, by=UserFactory(), now=aware("2030-01-07", "11:00"))


def test_holds_mark_missing_consent_open_adverse_events_and_short_pauses():
    from tests.factories import AdverseEventFactory, PlanAdjunctFactory

    setup = clinic()
    plan = active_plan()
    PlanAdjunctFactory(plan=plan, agent="hydroquinone", pause_days_before=5)
    AdverseEventFactory(patient=plan.patient, plan=plan)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    appointment = AppointmentFactory(patient=plan.patient, plan=plan, session=plan.sessions.get(number=1),
                                     start=aware(tomorrow.isoformat(), "10:00"), device=setup["devices"][0])

    holds = sel.appointment_flags([appointment])[appointment.pk].holds

    assert "Consent is incomplete." in holds
    assert "Open adverse events must be reviewed before booking." in holds
    assert "Hydroquinone must be stopped 5 days before the appointment; the patient cannot pause in time." in holds


def test_patient_cannot_be_double_booked_either():
    setup = clinic()
    plan = active_plan(clinician=setup["clinician"])
    _book_on(plan, 1, "2030-01-07", setup)
    other = UserFactory(role="clinician", username="dr_two")
    from plans.models import ClinicianHours

    ClinicianHours.objects.create(clinician=other, weekday=0, start=dt.time(9), end=dt.time(17))
    slot = svc.Slot("consultation", aware("2030-01-07", "09:30"), setup["rooms"][1], other)
    with pytest.raises(svc.BookingError, match=svc.ERR_PATIENT_BUSY):
        svc.appointment_book(patient=plan.patient, slot=slot, by=UserFactory(), now=NOW)
    assert svc.appointment_book(patient=PatientFactory(), slot=slot, by=UserFactory(), now=NOW).pk
