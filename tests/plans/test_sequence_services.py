"""Issue 12: sessions recorded in order and inside their window, later bookings flagged after a recording, and
the reschedule cascade (all or nothing). Time is frozen; every date is built from the frozen now."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from plans import rules
from plans.models import Appointment, SessionStatus
from plans.selectors import scheduling as sel
from plans.services import scheduling as svc
from plans.services import visits as visits_svc
from tests.factories import AppointmentFactory, LotFactory, UserFactory
from tests.plans.scheduling_support import active_plan, aware, clinic

pytestmark = pytest.mark.django_db
ALL_DAY = {"weekdays": range(7), "start": "07:00", "end": "20:00"}
NOW = aware("2030-01-06", "12:00")  # the course starts on Monday 7 January 2030
GOOD = rules.PreSessionAnswers(pregnant=False, new_medicines="", recent_sun_or_tan=False,
                               active_lesion_or_infection=False, topical_pauses_kept=True, antiviral_taken=None)
SETTINGS = {"depth_forehead_mm": 0.5, "depth_malar_mm": 0.5, "depth_chin_mm": 0.5, "passes": 3}


def _record(session, clinician, when, reason=""):
    """Check and record the session at ``when`` (the clock frozen an hour later, the same clinic day)."""
    with time_machine.travel(when + dt.timedelta(minutes=30), tick=False):
        visits_svc.pre_session_check_record(session=session, answers=GOOD, by=clinician)
        record = visits_svc.SessionRecord(
            performed_at=when, performed_by=clinician, device_name="Dermapen 4", device_settings=SETTINGS,
            exosome_lot=None, exosome_volume_ml=None,
        )
        return visits_svc.session_record(session=session, record=record, confirm_warnings=True, by=clinician,
                                         out_of_window_reason=reason)


def _book_course(plan, desk):
    proposals = [p for p in sel.propose_course(plan, now=NOW) if p.session is not None]
    slots = [svc.Slot(p.kind, p.start, p.room, p.clinician, device=p.device, session=p.session, label=p.label)
             for p in proposals]
    return svc.course_book(plan=plan, slots=slots, by=desk, now=NOW)


def _get(user, url, at):
    """A page as ``user`` sees it at ``at`` (signed in at that moment: the idle sign-out follows the clock)."""
    with time_machine.travel(at, tick=False):
        client = Client()
        client.force_login(user)
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _snapshot(plan):
    return list(Appointment.objects.filter(plan=plan).order_by("pk").values_list(
        "pk", "start", "room_id", "clinician_id", "status", "window_flagged_at"))


# --- recording in order and in window ----------------------------------------------------------------------


def test_recording_out_of_order_is_refused_and_changes_nothing(clinician):
    plan = active_plan(start="2030-01-07", clinician=clinician)
    third = plan.sessions.get(number=3)
    with pytest.raises(ValidationError) as refused:
        _record(third, clinician, aware("2030-03-04", "10:00"))
    assert refused.value.messages == [rules.ERR_RECORD_OUT_OF_ORDER.format(earlier=1, number=3)]
    third.refresh_from_db()
    assert third.status == SessionStatus.PLANNED and third.performed_at is None


def test_a_skipped_session_with_its_reason_lets_the_next_be_recorded(clinician):
    setup = clinic(clinician, **ALL_DAY)
    plan = active_plan(start="2030-01-07", clinician=clinician)
    booked = _book_course(plan, UserFactory(role="front_desk"))
    _record(plan.sessions.get(number=1), clinician, aware("2030-01-07", "10:00"))
    second = plan.sessions.get(number=2)
    with pytest.raises(ValidationError):
        visits_svc.session_skip(session=second, reason="  ", by=clinician)
    with time_machine.travel(aware("2030-02-04", "09:00"), tick=False):
        visits_svc.session_skip(session=second, reason="PIH flare: energy devices paused (hold rule)", by=clinician)
    second.refresh_from_db()
    assert second.status == SessionStatus.SKIPPED and second.closed_by == clinician
    assert second.history.first().history_user == clinician
    assert Appointment.objects.get(pk=booked[1].pk).status == "cancelled"  # its booking went with it
    third = _record(plan.sessions.get(number=3), clinician, aware("2030-03-04", "10:00"))
    assert third.status == SessionStatus.COMPLETED
    assert setup  # the clinic exists for the bookings


def test_the_database_refuses_a_skipped_session_without_a_reason(clinician):
    from django.db import IntegrityError, transaction

    plan = active_plan(start="2030-01-07", clinician=clinician)
    with pytest.raises(IntegrityError), transaction.atomic():
        plan.sessions.filter(number=2).update(status=SessionStatus.SKIPPED)


@pytest.mark.parametrize(
    "start, performed, needs_reason",
    [
        ("2030-01-07", "2030-01-04 10:00", False),  # at the earliest edge (target − 3 days)
        ("2030-01-07", "2030-01-03 10:00", True),  # just outside
        ("2030-01-07", "2030-01-14 10:00", False),  # at the latest edge (target + 7 days)
        ("2030-01-07", "2030-01-15 10:00", True),
        ("2030-01-31", "2030-02-07 18:00", False),  # month end: the window runs into February
        ("2030-01-31", "2030-02-08 09:00", True),
        ("2030-03-24", "2030-03-31 23:30", False),  # the clocks went forward that night: still 31 March here
        ("2030-03-24", "2030-04-01 00:30", True),  # 31 March 23:30 in UTC, 1 April at the clinic
    ],
)
def test_recording_outside_the_window_needs_a_reason_kept_on_the_timeline(
    clinician, clinician_client, start, performed, needs_reason
):
    plan = active_plan(start=start, clinician=clinician)
    session = plan.sessions.get(number=1)
    when = timezone.make_aware(dt.datetime.fromisoformat(performed))
    if needs_reason:
        with pytest.raises(ValidationError) as refused:
            _record(session, clinician, when)
        assert "out_of_window_reason" in refused.value.message_dict
        session.refresh_from_db()
        assert session.status == SessionStatus.PLANNED
    recorded = _record(session, clinician, when, reason="Patient abroad; agreed to treat now" if needs_reason else "")
    assert recorded.status == SessionStatus.COMPLETED
    assert bool(recorded.out_of_window_reason) is needs_reason
    page = _get(clinician, reverse("plans:detail", args=[plan.pk]), when + dt.timedelta(hours=1))
    assert ("Patient abroad; agreed to treat now" in page) is needs_reason


def test_a_reason_inside_the_window_is_not_kept(clinician):
    plan = active_plan(start="2030-01-07", clinician=clinician)
    recorded = _record(plan.sessions.get(number=1), clinician, aware("2030-01-07", "10:00"), reason="not needed")
    assert recorded.out_of_window_reason == ""


def test_recording_late_moves_later_windows_and_flags_bookings_for_the_front_desk(clinician, front_desk):
    clinic(clinician, **ALL_DAY)
    plan = active_plan(start="2030-01-07", clinician=clinician)
    booked = _book_course(plan, UserFactory(role="front_desk"))
    assert [timezone.localtime(a.start).date() for a in booked] == [
        dt.date(2030, 1, 7), dt.date(2030, 2, 4), dt.date(2030, 3, 4), dt.date(2030, 4, 1)]

    # Session 1 performed 6 days late (inside its window): session 2's window becomes 10–20 Feb.
    recorded = _record(plan.sessions.get(number=1), clinician, aware("2030-01-13", "10:00"))

    assert recorded.later_outside == [2]
    rows = sel.plan_schedule(plan)["session_rows"]
    assert rows[1].window.target == dt.date(2030, 2, 10)
    flagged = Appointment.objects.get(pk=booked[1].pk)
    assert flagged.window_flagged_at is not None and flagged.start == booked[1].start  # flagged, never moved
    dashboard = _get(front_desk, reverse("dashboard"), aware("2030-01-14", "08:00"))
    assert 'id="window-flagged"' in dashboard and plan.patient.full_name in dashboard

    # Moving it clears the flag.
    with time_machine.travel(aware("2030-01-14", "08:00"), tick=False):
        svc.appointment_reschedule(appointment=flagged, start=aware("2030-02-10", "10:00"), room=flagged.room,
                                   device=flagged.device, clinician=flagged.clinician, by=UserFactory(role="front_desk"))
    assert Appointment.objects.get(pk=flagged.pk).window_flagged_at is None


# --- reschedule cascade --------------------------------------------------------------------------------------


@pytest.fixture
def course(clinician):
    setup = clinic(clinician, **ALL_DAY)
    plan = active_plan(start="2030-01-07", clinician=clinician)
    booked = _book_course(plan, UserFactory(role="front_desk"))
    return {**setup, "plan": plan, "booked": booked, "desk": UserFactory(role="front_desk")}


def _moves(rows):
    return [svc.Move(r.appointment, r.start, r.room, r.clinician, device=r.device) for r in rows]


def test_cascade_moves_three_later_bookings_in_one_action(course):
    first = course["booked"][0]
    new_start = first.start + dt.timedelta(days=7)
    rows = sel.propose_cascade(first, start=new_start, room=first.room, device=first.device,
                               clinician=first.clinician, now=NOW)
    assert [(r.number, r.kept_offset) for r in rows] == [(2, True), (3, True), (4, True)]

    moved = svc.appointment_reschedule_cascade(
        appointment=first, start=new_start, room=first.room, device=first.device, clinician=first.clinician,
        later=_moves(rows), by=course["desk"], now=NOW,
    )

    assert [a.start for a in moved] == [a.start + dt.timedelta(days=7) for a in course["booked"]]
    assert [row.outside_window for row in sel.plan_schedule(course["plan"])["session_rows"]] == [False] * 4
    assert all(a.history.first().history_user == course["desk"] for a in moved)


def test_cascade_proposes_the_nearest_free_slot_when_the_same_offset_clashes(course, clinician):
    first, third = course["booked"][0], course["booked"][2]
    offset = dt.timedelta(days=7)
    # Another patient holds the clinician at session 3's shifted time.
    AppointmentFactory(start=third.start + offset, end=third.end + offset, clinician=clinician, room=None)
    rows = sel.propose_cascade(first, start=first.start + offset, room=first.room, device=first.device,
                               clinician=first.clinician, now=NOW)
    row3 = rows[1]
    assert row3.number == 3 and not row3.kept_offset
    assert row3.start == third.start + offset + dt.timedelta(hours=1)  # right after the other booking
    assert not rules.outside_window(row3.window, sel.local_date(row3.start))


def test_cascade_rolls_back_entirely_when_one_cannot_move(course, clinician):
    first, fourth = course["booked"][0], course["booked"][3]
    offset = dt.timedelta(days=7)
    rows = sel.propose_cascade(first, start=first.start + offset, room=first.room, device=first.device,
                               clinician=first.clinician, now=NOW)
    before = _snapshot(course["plan"])
    # Between the proposal and the click, another desk books the room at session 4's proposed slot.
    AppointmentFactory(start=fourth.start + offset, end=fourth.end + offset, room=fourth.room,
                       clinician=UserFactory(role="clinician"))

    with pytest.raises(svc.BookingError) as refused:
        svc.appointment_reschedule_cascade(
            appointment=first, start=first.start + offset, room=first.room, device=first.device,
            clinician=first.clinician, later=_moves(rows), by=course["desk"], now=NOW,
        )

    assert refused.value.message.startswith("Session 4: ")
    assert _snapshot(course["plan"]) == before  # sessions 1–3 did not move either


def test_front_desk_moves_with_the_later_sessions_through_the_pages_and_lands_on_the_new_day(course, front_desk):
    first = course["booked"][0]
    new_local = timezone.localtime(first.start + dt.timedelta(days=7))
    url = reverse("plans:appointment_reschedule", args=[first.pk])
    data = {"date": new_local.date().isoformat(), "time": new_local.strftime("%H:%M"), "room": first.room_id,
            "device": first.device_id, "clinician": first.clinician_id, "move_later": "on"}
    with time_machine.travel(NOW, tick=False):
        front_desk_client = Client()
        front_desk_client.force_login(front_desk)
        assert b"Also move the 3 later sessions" in front_desk_client.get(url).content
        preview = front_desk_client.post(url, data)
        assert preview.status_code == 200 and preview.content.count(b'class="cascade-row"') == 3
        assert _snapshot(course["plan"])[0][1] == first.start  # nothing moved yet
        hidden = {}
        for row in sel.propose_cascade(first, start=first.start + dt.timedelta(days=7), room=first.room,
                                       device=first.device, clinician=first.clinician, now=NOW):
            local = timezone.localtime(row.start)
            prefix = f"later-{row.appointment.pk}-"
            hidden |= {prefix + "include": "on", prefix + "date": local.date().isoformat(),
                       prefix + "time": local.strftime("%H:%M"), prefix + "room": row.room.pk,
                       prefix + "device": row.device.pk, prefix + "clinician": row.clinician.pk}
        response = front_desk_client.post(url, data | hidden | {"apply": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('plans:schedule_day')}?date={new_local.date():%Y-%m-%d}"
    assert [a.start for a in Appointment.objects.filter(plan=course["plan"]).order_by("session__number")] == [
        a.start + dt.timedelta(days=7) for a in course["booked"]]


def test_a_completed_visit_on_the_day_view_links_its_aftercare_sheet(course, clinician, front_desk):
    lot = LotFactory()
    assert lot
    _record(course["plan"].sessions.get(number=1), clinician, aware("2030-01-07", "10:30"))
    session = course["plan"].sessions.get(number=1)
    page = _get(front_desk, reverse("plans:schedule_day") + "?date=2030-01-07", aware("2030-01-07", "12:00"))
    assert f'href="{reverse("plans:aftercare", args=[session.pk])}?print=1"' in page


def test_session_page_names_the_session_its_window_and_the_next_step(course, clinician):
    session = course["plan"].sessions.get(number=2)
    page = _get(clinician, reverse("plans:session", args=[session.pk]), NOW)
    check = _get(clinician, reverse("plans:session_check", args=[session.pk]), NOW)
    assert "Session 2 of 4" in page and "Session 2 of 4" in check
    assert "window Fri 1 Feb – Mon 11 Feb 2030" in check
    assert rules.ERR_RECORD_OUT_OF_ORDER.format(earlier=1, number=2) in page
    first = course["plan"].sessions.get(number=1)
    page = _get(clinician, reverse("plans:session", args=[first.pk]), aware("2030-01-07", "08:00"))
    assert "run the pre-session check" in page
    _record(first, clinician, aware("2030-01-07", "10:00"))
    page = _get(clinician, reverse("plans:session", args=[first.pk]), aware("2030-01-07", "11:00"))
    assert "give the patient the aftercare sheet" in page
