"""Scheduling pages: permission ladder on every URL, booking through the pages, desk actions, fixed query
counts, feeds and resources."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from plans.models import Appointment, AppointmentStatus, CalendarFeedToken, ClinicianHours, Device, Room
from plans.services import scheduling as svc
from tests.factories import (
    AdverseEventFactory,
    AppointmentFactory,
    PatientFactory,
    PlanAdjunctFactory,
    UserFactory,
)
from tests.plans.scheduling_support import active_plan, aware, clinic

pytestmark = pytest.mark.django_db
ALL_DAY = {"weekdays": range(7), "start": "07:00", "end": "20:00"}


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(clinician):
    setup = clinic(clinician, **ALL_DAY)
    plan = active_plan(start=(timezone.localdate() + dt.timedelta(days=7)).isoformat(), clinician=clinician)
    appointment = AppointmentFactory(
        patient=plan.patient, plan=plan, session=plan.sessions.get(number=1), clinician=clinician,
        room=setup["rooms"][0], device=setup["devices"][0],
        start=aware((timezone.localdate() + dt.timedelta(days=7)).isoformat(), "10:00"),
    )
    hours = ClinicianHours.objects.filter(clinician=clinician).first()
    return {**setup, "plan": plan, "appointment": appointment, "hours": hours}


def _ladder_urls(world):
    a, plan = world["appointment"], world["plan"]
    view = {"clinician", "front_desk", "manager"}
    desk = {"front_desk", "manager"}
    return [
        ("get", reverse("plans:schedule_day"), view),
        ("get", reverse("plans:schedule_day") + "?date=2030-01-07&by=clinician", view),
        ("get", reverse("plans:schedule_week"), view),
        ("get", reverse("plans:schedule_day_sheet"), view),
        ("get", reverse("plans:schedule_reminders"), view),
        ("get", reverse("plans:calendar_settings"), view),
        ("post", reverse("plans:calendar_regenerate"), view),
        ("get", reverse("plans:plan_book", args=[plan.pk]), desk),
        ("get", reverse("plans:appointment_new", args=[plan.patient_id]), desk),
        ("get", reverse("plans:appointment_reschedule", args=[a.pk]), desk),
        ("get", reverse("plans:appointment_cancel", args=[a.pk]), desk),
        ("post", reverse("plans:appointment_check_in", args=[a.pk]), desk),
        ("post", reverse("plans:appointment_no_show", args=[a.pk]), desk),
        ("get", reverse("plans:resources"), {"manager"}),
        ("get", reverse("plans:resource_new", args=["room"]), {"manager"}),
        ("get", reverse("plans:resource_new", args=["hours"]), {"manager"}),
        ("get", reverse("plans:resource_edit", args=["device", world["devices"][0].pk]), {"manager"}),
        ("get", reverse("plans:resource_new", args=["length"]), {"manager"}),
        ("post", reverse("plans:hours_delete", args=[world["hours"].pk]), {"manager"}),
    ]


def test_permission_ladder_on_every_scheduling_url(world, role_clients):
    role_clients["no_role"] = _client(UserFactory(username="nobody"))
    for method, url, allowed in _ladder_urls(world):
        for role, client in role_clients.items():
            response = getattr(client, method)(url)
            if role == "anonymous":
                assert response.status_code == 302 and response["Location"].startswith("/login/"), (url, role)
            elif role in allowed:
                assert response.status_code in (200, 302), (method, url, role, response.status_code)
            else:
                assert response.status_code == 403, (method, url, role, response.status_code)


@pytest.mark.parametrize("url_name", ["plans:appointment_check_in", "plans:appointment_no_show", "plans:hours_delete",
                                      "plans:calendar_regenerate"])
def test_state_changing_urls_refuse_get(world, manager_client, url_name):
    args = {"plans:appointment_check_in": [world["appointment"].pk], "plans:appointment_no_show": [world["appointment"].pk],
            "plans:hours_delete": [world["hours"].pk], "plans:calendar_regenerate": []}[url_name]
    assert manager_client.get(reverse(url_name, args=args)).status_code == 405


def _formset_post(response, **overrides):
    formset = response.context["formset"]
    data = {f"{formset.prefix}-{key}": value for key, value in formset.management_form.initial.items()}
    for index, form in enumerate(formset):
        for name, value in form.initial.items():
            if value is None or value is False:
                continue
            if hasattr(value, "pk"):
                value = value.pk
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, dt.time):
                value = value.strftime("%H:%M")
            elif value is True:
                value = "on"
            data[f"{formset.prefix}-{index}-{name}"] = value
    data.update(overrides)
    return data


def test_front_desk_books_the_whole_course_from_the_proposal(world, front_desk_client):
    plan = world["plan"]
    world["appointment"].delete()
    url = reverse("plans:plan_book", args=[plan.pk])
    response = front_desk_client.get(url)
    assert response.status_code == 200
    assert b"Session 1" in response.content and b"Follow-up at 6 months" in response.content

    response = front_desk_client.post(url, _formset_post(response))

    assert response.status_code == 302 and response["Location"] == plan.patient.get_absolute_url()
    booked = Appointment.objects.filter(plan=plan).order_by("start")
    assert [a.kind for a in booked] == ["session"] * 4 + ["follow_up"] * 3
    assert [a.session.number for a in booked[:4]] == [1, 2, 3, 4]
    assert all(a.created_by.username == "desk_brown" for a in booked)


def test_desk_changes_one_slot_and_leaves_another_out(world, front_desk_client):
    plan = world["plan"]
    world["appointment"].delete()
    url = reverse("plans:plan_book", args=[plan.pk])
    response = front_desk_client.get(url)
    post = _formset_post(response)
    post["form-0-time"] = "15:00"
    post["form-0-room"] = world["rooms"][1].pk
    del post["form-6-include"]

    assert front_desk_client.post(url, post).status_code == 302

    first = Appointment.objects.get(session__plan=plan, session__number=1)
    assert timezone.localtime(first.start).strftime("%H:%M") == "15:00" and first.room == world["rooms"][1]
    assert Appointment.objects.filter(plan=plan).count() == 6


def test_booking_outside_the_window_asks_for_confirmation_and_saves_nothing_until_then(world, front_desk_client):
    plan = world["plan"]
    world["appointment"].delete()
    url = reverse("plans:plan_book", args=[plan.pk])
    post = _formset_post(front_desk_client.get(url))
    far = (plan.start_date + dt.timedelta(days=20)).isoformat()
    post["form-0-date"] = far

    response = front_desk_client.post(url, post)

    assert response.status_code == 200
    assert b"is outside its window" in response.content and b"confirm_outside_window" in response.content
    assert not Appointment.objects.filter(plan=plan).exists()

    post["confirm_outside_window"] = "on"
    assert front_desk_client.post(url, post).status_code == 302
    assert Appointment.objects.get(session__plan=plan, session__number=1).start.date() >= dt.date.fromisoformat(far) - dt.timedelta(days=1)


def test_overlapping_single_booking_is_refused_with_a_message(world, front_desk_client):
    other = PatientFactory()
    a = world["appointment"]
    start = timezone.localtime(a.start)
    response = front_desk_client.post(reverse("plans:appointment_new", args=[other.pk]), {
        "kind": "consultation", "date": start.date().isoformat(), "time": "10:30", "room": a.room_id,
        "clinician": UserFactory(role="clinician").pk,
    })
    assert response.status_code == 200
    assert svc.ERR_ROOM_BUSY.format(name=a.room.name).encode() in response.content or b"is not working" in response.content
    assert not Appointment.objects.filter(patient=other).exists()


def test_overlapping_room_refused_for_another_clinician_at_work(world, front_desk_client):
    other_patient = PatientFactory()
    colleague = UserFactory(role="clinician", username="dr_colleague")
    a = world["appointment"]
    start = timezone.localtime(a.start)
    ClinicianHours.objects.create(clinician=colleague, weekday=start.weekday(), start=dt.time(7), end=dt.time(20))
    response = front_desk_client.post(reverse("plans:appointment_new", args=[other_patient.pk]), {
        "kind": "consultation", "date": start.date().isoformat(), "time": "10:30", "room": a.room_id,
        "clinician": colleague.pk,
    })
    assert response.status_code == 200
    assert svc.ERR_ROOM_BUSY.format(name=a.room.name).encode() in response.content
    assert not Appointment.objects.filter(patient=other_patient).exists()
    # A free room at the same time works.
    response = front_desk_client.post(reverse("plans:appointment_new", args=[other_patient.pk]), {
        "kind": "consultation", "date": start.date().isoformat(), "time": "10:30", "room": world["rooms"][1].pk,
        "clinician": colleague.pk,
    })
    assert response.status_code == 302
    assert Appointment.objects.filter(patient=other_patient, kind="consultation").count() == 1


def test_check_in_no_show_and_late_cancellation_from_the_day_view(clinician, front_desk_client, time_machine):
    # Mid-morning, so "3 hours ago" and "5 hours from now" are both on today's page.
    time_machine.move_to(aware("2026-11-25", "11:00"), tick=False)
    clinic(clinician, **ALL_DAY)
    now = timezone.localtime()
    soon = AppointmentFactory(start=now + dt.timedelta(hours=2), clinician=clinician)
    past = AppointmentFactory(start=now - dt.timedelta(hours=3), clinician=UserFactory(role="clinician"))
    day_url = reverse("plans:schedule_day") + f"?date={now.date().isoformat()}"

    response = front_desk_client.post(reverse("plans:appointment_check_in", args=[soon.pk]), {"next": day_url})
    assert response.status_code == 302 and response["Location"] == day_url
    soon.refresh_from_db()
    assert soon.status == AppointmentStatus.CHECKED_IN

    front_desk_client.post(reverse("plans:appointment_no_show", args=[past.pk]))
    past.refresh_from_db()
    assert past.status == AppointmentStatus.NO_SHOW

    later = AppointmentFactory(start=now + dt.timedelta(hours=5), clinician=UserFactory(role="clinician"))
    url = reverse("plans:appointment_cancel", args=[later.pk])
    response = front_desk_client.post(url, {"reason": ""})
    assert response.status_code == 200 and b"This field is required" in response.content
    later.refresh_from_db()
    assert later.status == AppointmentStatus.BOOKED
    response = front_desk_client.post(url, {"reason": "Childcare fell through"}, follow=True)
    later.refresh_from_db()
    assert later.status == AppointmentStatus.CANCELLED and later.late_cancellation
    assert b"late cancellation" in response.content
    assert b"Late cancellation" in front_desk_client.get(day_url).content


def test_checking_in_twice_is_refused_with_a_message(world, front_desk_client):
    a = world["appointment"]
    response = front_desk_client.post(reverse("plans:appointment_check_in", args=[a.pk]), follow=True)
    assert svc.ERR_CHECK_IN_DAY.encode() in response.content
    a.refresh_from_db()
    assert a.status == AppointmentStatus.BOOKED


def test_reschedule_page_moves_and_flags_later_sessions(world, front_desk_client):
    plan, a = world["plan"], world["appointment"]
    target = timezone.localtime(a.start) + dt.timedelta(days=1)
    response = front_desk_client.post(reverse("plans:appointment_reschedule", args=[a.pk]), {
        "date": target.date().isoformat(), "time": "11:00", "room": a.room_id, "device": a.device_id,
        "clinician": a.clinician_id,
    })
    assert response.status_code == 302
    a.refresh_from_db()
    assert timezone.localtime(a.start).strftime("%H:%M") == "11:00"
    assert plan.pk == a.plan_id


def _many_appointments(day: dt.date, count: int):
    rooms = [Room.objects.get_or_create(name=f"Suite {n}")[0] for n in range(5)]
    clinicians = [UserFactory(role="clinician", username=f"dr_many_{n}") for n in range(5)]
    plans = [active_plan(start=day.isoformat()) for _ in range(min(count, 20))]
    for plan in plans[:5]:
        PlanAdjunctFactory(plan=plan)
        AdverseEventFactory(patient=plan.patient, plan=plan)
    for i in range(count):
        plan = plans[i % len(plans)]
        start = aware(day.isoformat(), "00:00") + dt.timedelta(minutes=30 * (i // 5))
        AppointmentFactory(
            patient=plan.patient, plan=plan, session=plan.sessions.get(number=1 + (i // len(plans)) % 4),
            room=rooms[i % 5], clinician=clinicians[i % 5], start=start, end=start + dt.timedelta(minutes=25),
        )


DAY_BUDGET = 19  # measured 18 on SQLite: session, auth, 6 for flags and holds, columns, to-call list


@pytest.mark.parametrize("count", [10, 200])
@pytest.mark.parametrize("view, by", [("plans:schedule_day", "room"), ("plans:schedule_day", "clinician"),
                                      ("plans:schedule_week", "room"), ("plans:schedule_day_sheet", "room")])
def test_calendar_queries_do_not_grow_with_appointments(front_desk_client, django_assert_max_num_queries, count, view, by):
    day = dt.date(2030, 1, 7)
    _many_appointments(day, count)
    url = reverse(view) + f"?date={day.isoformat()}&by={by}"
    with django_assert_max_num_queries(DAY_BUDGET):
        response = front_desk_client.get(url)
    assert response.status_code == 200
    assert response.content.count(b"Hold: ") >= 1


def test_day_view_marks_outside_window_and_holds(world, front_desk_client):
    plan, a = world["plan"], world["appointment"]
    PlanAdjunctFactory(plan=plan, agent="tretinoin", pause_days_before=0)
    AdverseEventFactory(patient=plan.patient, plan=plan)
    # Session 2 booked far from its window.
    AppointmentFactory(patient=plan.patient, plan=plan, session=plan.sessions.get(number=2), clinician=a.clinician,
                       room=a.room, device=a.device, start=a.start + dt.timedelta(days=10))
    day = timezone.localtime(a.start).date() + dt.timedelta(days=10)
    content = front_desk_client.get(reverse("plans:schedule_day") + f"?date={day.isoformat()}").content.decode()
    assert "Outside window" in content
    assert "Consent is incomplete." in content and "Open adverse events" in content


def test_bad_date_falls_back_to_today_with_a_message(front_desk_client):
    response = front_desk_client.get(reverse("plans:schedule_day") + "?date=2030-13-45", follow=True)
    assert response.status_code == 200
    assert b"Enter a date as YYYY-MM-DD. Showing today." in response.content
    assert response.context["day"] == timezone.localdate()


def test_day_sheet_lists_patients_and_links_aftercare_for_performed_sessions(world, front_desk_client):
    a = world["appointment"]
    a.session.status = "completed"
    a.session.save()
    Appointment.objects.filter(pk=a.pk).update(status=AppointmentStatus.COMPLETED)
    day = timezone.localtime(a.start).date()
    content = front_desk_client.get(reverse("plans:schedule_day_sheet") + f"?date={day}").content.decode()
    assert a.patient.full_name in content and "Room A" in content
    assert f'href="/sessions/{a.session_id}/aftercare/?print=1">Print aftercare sheet' in content  # one click
    assert 'class="navbar' not in content  # printable: no navigation chrome


def test_panels_show_bookings_on_patient_and_dashboard(world, front_desk, front_desk_client, clinician_client, time_machine):
    plan, a = world["plan"], world["appointment"]
    response = front_desk_client.get(plan.patient.get_absolute_url())
    assert reverse("plans:plan_book", args=[plan.pk]).encode() in response.content
    assert b"Upcoming appointments" in response.content
    # A clinician sees the appointments but gets no booking buttons.
    response = clinician_client.get(plan.patient.get_absolute_url())
    assert b"Upcoming appointments" in response.content
    assert reverse("plans:plan_book", args=[plan.pk]).encode() not in response.content

    time_machine.move_to(aware("2026-11-30", "23:50"), tick=False)  # late evening: still today's list
    front_desk_client.force_login(front_desk)  # signed in again at the new hour (idle sign-out)
    today = AppointmentFactory(start=timezone.now() + dt.timedelta(minutes=5), clinician=UserFactory(role="clinician"))
    response = front_desk_client.get("/")
    assert b"Today&#x27;s appointments" in response.content or b"Today's appointments" in response.content
    assert today.patient.full_name.encode() in response.content


def test_plan_panel_context_flags_and_book_button(world, front_desk, clinician):
    from plans.selectors import panels_for

    panels = panels_for("plan", world["plan"], front_desk)
    [panel] = [p for p in panels if p["template"].startswith("plans/scheduling/")]
    assert panel["can_book"] is True
    assert panel["session_rows"][0].appointment == world["appointment"]
    [panel] = [p for p in panels_for("plan", world["plan"], clinician) if p["template"].startswith("plans/scheduling/")]
    assert panel["can_book"] is False


def test_booking_a_draft_plan_is_refused(world, front_desk_client):
    plan = world["plan"]
    type(plan).objects.filter(pk=plan.pk).update(state="draft")
    response = front_desk_client.get(reverse("plans:plan_book", args=[plan.pk]), follow=True)
    assert svc.ERR_PLAN_NOT_ACTIVE.encode() in response.content


def test_calendar_feed_needs_the_secret_token(world, clinician_client, clinician):
    anonymous = Client()
    assert anonymous.get(reverse("plans:calendar_feed", args=["not-a-token"])).status_code == 404

    clinician_client.post(reverse("plans:calendar_regenerate"))
    token = CalendarFeedToken.objects.get(user=clinician).token
    response = anonymous.get(reverse("plans:calendar_feed", args=[token]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "BEGIN:VEVENT" in body and world["appointment"].patient.mrn in body
    assert world["appointment"].patient.last_name not in body  # initials only

    page = clinician_client.get(reverse("plans:calendar_settings")).content.decode()
    assert token in page
    clinician_client.post(reverse("plans:calendar_regenerate"))
    assert anonymous.get(reverse("plans:calendar_feed", args=[token])).status_code == 404


def test_manager_edits_resources_and_bad_input_is_refused(manager_client):
    response = manager_client.post(reverse("plans:resource_new", args=["device"]),
                                   {"name": "Fraxel", "modalities": ["nafl"], "is_active": "on"})
    assert response.status_code == 302
    assert Device.objects.get(name="Fraxel").modalities == ["nafl"]

    response = manager_client.post(reverse("plans:resource_new", args=["device"]), {"name": "Empty"})
    assert response.status_code == 200 and not Device.objects.filter(name="Empty").exists()

    clinician = UserFactory(role="clinician", username="dr_res")
    response = manager_client.post(reverse("plans:resource_new", args=["hours"]),
                                   {"clinician": clinician.pk, "weekday": 5, "start": "17:00", "end": "09:00"})
    assert response.status_code == 200 and b"The end must be after the start." in response.content
    assert not ClinicianHours.objects.filter(clinician=clinician).exists()
    response = manager_client.post(reverse("plans:resource_new", args=["hours"]),
                                   {"clinician": clinician.pk, "weekday": 5, "start": "09:00", "end": "13:00"})
    assert response.status_code == 302 and ClinicianHours.objects.filter(clinician=clinician, weekday=5).exists()

    response = manager_client.post(reverse("plans:resource_new", args=["length"]), {"kind": "nafl", "minutes": 2})
    assert response.status_code == 200
    assert manager_client.get(reverse("plans:resource_new", args=["spaceship"])).status_code == 404


def test_plan_page_shows_the_bookings_panel_with_window_flags(world, front_desk_client):
    plan, a = world["plan"], world["appointment"]
    AppointmentFactory(patient=plan.patient, plan=plan, session=plan.sessions.get(number=2), clinician=a.clinician,
                       room=a.room, device=a.device, start=a.start + dt.timedelta(days=10))
    response = front_desk_client.get(plan.get_absolute_url())
    if response.status_code == 501:  # the course area has not built the plan page yet
        pytest.skip("plan page not built")
    content = response.content.decode()
    assert 'id="plan-bookings"' in content
    assert "1 outside window" in content
    assert reverse("plans:plan_book", args=[plan.pk]) in content


def test_day_card_addresses_are_the_appointments_own(db):
    """The card builds its action addresses from one reversed prefix: they must be the URL conf's."""
    from plans.selectors.scheduling import day_view

    day = dt.date(2030, 1, 7)
    _many_appointments(day, 1)
    card = next(card for column in day_view(day)["columns"] for card in column["appointments"])
    for suffix, name in (("check-in/", "appointment_check_in"), ("no-show/", "appointment_no_show"),
                         ("move/", "appointment_reschedule"), ("cancel/", "appointment_cancel")):
        assert card.url + suffix == reverse(f"plans:{name}", args=[card.pk])
    assert card.patient_url == Appointment.objects.get(pk=card.pk).patient.get_absolute_url()


def test_day_cards_escape_what_people_typed_and_keep_their_actions(world, front_desk_client):
    """The cards are laid out in Python (plans/templatetags/calendar_cards.py): every value is escaped, and a
    booked card carries check-in, no-show, move and cancel for its own appointment."""
    a = world["appointment"]
    patient = a.patient
    patient.first_name, patient.last_name = '<img src=x onerror="alert(1)">', 'O"Brien & <b>Sons</b>'
    patient.save()
    day = timezone.localtime(a.start).date()
    url = reverse("plans:schedule_day") + f"?date={day.isoformat()}"
    content = front_desk_client.get(url).content.decode()
    assert "<img src=x" not in content and "<b>Sons</b>" not in content
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; O&quot;Brien &amp; &lt;b&gt;Sons&lt;/b&gt;" in content
    assert f'formaction="{reverse("plans:appointment_check_in", args=[a.pk])}"' in content
    assert f'formaction="{reverse("plans:appointment_no_show", args=[a.pk])}"' in content
    assert f'href="{reverse("plans:appointment_reschedule", args=[a.pk])}?next=' in content
    assert f'href="{reverse("plans:appointment_cancel", args=[a.pk])}?next=' in content
    clinician_view = _client(world["plan"].created_by).get(url).content.decode()
    assert f'id="appointment-{a.pk}"' in clinician_view
    assert 'formaction="' not in clinician_view  # who may not change bookings gets no actions
