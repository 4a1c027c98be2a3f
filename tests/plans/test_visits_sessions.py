"""Pre-session check, recording a performed session (device settings per modality, lots) and amendments."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from plans import rules
from plans.models import PreSessionCheck, SessionAmendment, SessionStatus, TreatmentSession
from plans.services import visits as services
from tests.factories import AdverseEventFactory, LotFactory, PatientFactory, PlanFactory, TreatmentSessionFactory

GOOD_ANSWERS = rules.PreSessionAnswers(
    pregnant=False, new_medicines="", recent_sun_or_tan=False, active_lesion_or_infection=False,
    topical_pauses_kept=True, antiviral_taken=None,
)
GOOD_CHECK_POST = {"topical_pauses_kept": "on", "new_medicines": ""}

BASE_SETTINGS = {
    rules.MICRONEEDLING: {"depth_forehead_mm": "0.5", "depth_malar_mm": "0.5", "depth_chin_mm": "0.5", "passes": "3",
                          "endpoint": "erythema", "device_type": "pen", "speed": "8"},
    rules.NAFL: {"wavelength_nm": "1927", "energy_mj": "10", "density_percent": "20", "passes": "6", "cooling": "on"},
    rules.RF_MICRONEEDLING: {"needle_depth_mm": "1.0", "power_level": "20", "pulse_duration_ms": "100", "pins": "49",
                             "passes": "2", "electrode_type": "insulated"},
}


def make_session(modality=rules.MICRONEEDLING, *, state="active", patient=None, number=1):
    # Type III: the typed settings below are within the conservative ceilings only types IV–VI have (S18).
    plan = PlanFactory(state=state, modality=modality, patient=patient or PatientFactory(fitzpatrick_type=3),
                       device_settings={}, start_date=timezone.localdate())  # session 1 due today: inside its window
    return TreatmentSessionFactory(plan=plan, number=number)


def record_post(clinician, lot, modality=rules.MICRONEEDLING, **overrides):
    data = {
        "performed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "performed_by": clinician.pk,
        "device_name": "Dermapen 4",
        "exosome_lot": lot.pk if lot else "",
        "exosome_volume_ml": "1.5",
        "exosome_applied": "during the procedure",
        "zones": "full face",
        "anaesthetic": "topical lidocaine 5%",
        "notes": "Tolerated well.",
        **BASE_SETTINGS[modality],
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.fixture
def lot(db):
    return LotFactory()


@pytest.fixture
def session(clinician):
    return make_session()


@pytest.fixture
def checked_session(session, clinician):
    services.pre_session_check_record(session=session, answers=GOOD_ANSWERS, by=clinician)
    return session


# --- pre-session check -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "post, blocker",
    [
        ({**GOOD_CHECK_POST, "pregnant": "on"}, rules.PRE_PREGNANT),
        ({**GOOD_CHECK_POST, "new_medicines": "doxycycline"}, rules.PRE_NEW_MEDICINES),
        ({**GOOD_CHECK_POST, "recent_sun_or_tan": "on"}, rules.PRE_RECENT_SUN),
        ({**GOOD_CHECK_POST, "active_lesion_or_infection": "on"}, rules.PRE_ACTIVE_LESION),
        ({"new_medicines": ""}, rules.PRE_PAUSES_NOT_KEPT),
    ],
)
def test_failed_check_blocks_with_reason_shown_and_recorded(clinician_client, session, post, blocker):
    response = clinician_client.post(reverse("plans:session_check", args=[session.pk]), post, follow=True)
    assert response.status_code == 200
    assert blocker in response.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.BLOCKED
    check = PreSessionCheck.objects.get(session=session)
    assert check.passed is False and check.blockers == [blocker]
    # Recording is refused while blocked.
    response = clinician_client.get(reverse("plans:session_record", args=[session.pk]))
    assert response.status_code == 302 and response.url == reverse("plans:session_check", args=[session.pk])


def test_later_passing_check_lets_a_blocked_session_proceed(clinician_client, session):
    clinician_client.post(reverse("plans:session_check", args=[session.pk]), {**GOOD_CHECK_POST, "pregnant": "on"})
    response = clinician_client.post(reverse("plans:session_check", args=[session.pk]), GOOD_CHECK_POST)
    assert response.status_code == 302 and response.url == reverse("plans:session_record", args=[session.pk])
    session.refresh_from_db()
    assert session.status == SessionStatus.PLANNED
    assert list(PreSessionCheck.objects.filter(session=session).values_list("passed", flat=True).order_by("id")) == [False, True]


def test_antiviral_question_only_with_hsv_history(clinician_client, clinician):
    plain = make_session()
    hsv = make_session(patient=PatientFactory(hsv_history=True))
    assert "Antiviral prophylaxis" not in clinician_client.get(reverse("plans:session_check", args=[plain.pk])).content.decode()
    assert "Antiviral prophylaxis" in clinician_client.get(reverse("plans:session_check", args=[hsv.pk])).content.decode()
    clinician_client.post(reverse("plans:session_check", args=[hsv.pk]), GOOD_CHECK_POST)
    check = PreSessionCheck.objects.get(session=hsv)
    assert check.blockers == [rules.PRE_ANTIVIRAL_NOT_TAKEN] and check.antiviral_taken is False
    clinician_client.post(reverse("plans:session_check", args=[plain.pk]), GOOD_CHECK_POST)
    assert PreSessionCheck.objects.get(session=plain).antiviral_taken is None


def test_check_refused_on_a_plan_that_is_not_active(clinician_client):
    draft = make_session(state="draft")
    response = clinician_client.post(reverse("plans:session_check", args=[draft.pk]), GOOD_CHECK_POST, follow=True)
    assert services.ERR_PLAN_NOT_ACTIVE in response.content.decode()
    assert not PreSessionCheck.objects.exists()


# --- adverse events hold the next session ------------------------------------------------------------------


def test_unreviewed_adverse_event_holds_the_next_session_until_reviewed(clinician_client, clinician):
    first = make_session()
    second = TreatmentSessionFactory(plan=first.plan, number=2)
    event = AdverseEventFactory(patient=first.plan.patient, plan=first.plan, session=first)
    clinician_client.post(reverse("plans:session_check", args=[second.pk]), GOOD_CHECK_POST)
    second.refresh_from_db()
    assert second.status == SessionStatus.BLOCKED
    assert PreSessionCheck.objects.get(session=second).blockers == [rules.PRE_OPEN_ADVERSE_EVENTS]

    clinician_client.post(reverse("plans:adverse_event_review", args=[event.pk]))
    response = clinician_client.post(reverse("plans:session_check", args=[second.pk]), GOOD_CHECK_POST)
    assert response.url == reverse("plans:session_record", args=[second.pk])
    second.refresh_from_db()
    assert second.status == SessionStatus.PLANNED


# --- recording ------------------------------------------------------------------------------------------------


def test_record_form_prefills_from_plan_and_suggestions(clinician_client, clinician, lot):
    plan = PlanFactory(
        state="active", modality=rules.MICRONEEDLING, patient=PatientFactory(fitzpatrick_type=5),
        device_settings={"zone_depths_mm": {"malar": 0.8}, "passes": 3}, exosome_product=lot.product,
    )
    session = TreatmentSessionFactory(plan=plan, number=1)
    services.pre_session_check_record(session=session, answers=GOOD_ANSWERS, by=clinician)
    html = clinician_client.get(reverse("plans:session_record", args=[session.pk])).content.decode()
    assert 'name="depth_malar_mm" value="0.8"' in html  # the plan's own setting
    assert 'name="depth_forehead_mm" value="0.2"' in html  # conservative for Fitzpatrick IV–VI (S15)
    assert f'<option value="{lot.pk}" selected' in html  # the plan's product lot


def test_clinician_records_a_session_with_its_lot(clinician_client, clinician, checked_session, lot):
    response = clinician_client.post(reverse("plans:session_record", args=[checked_session.pk]), record_post(clinician, lot))
    assert response.status_code == 302 and response.url == checked_session.get_absolute_url()
    s = TreatmentSession.objects.get(pk=checked_session.pk)
    assert s.status == SessionStatus.COMPLETED and s.completed_at is not None
    assert s.exosome_lot == lot and s.exosome_volume_ml == Decimal("1.50")
    assert s.modality == rules.MICRONEEDLING
    assert s.device_settings == {
        "depth_forehead_mm": 0.5, "depth_malar_mm": 0.5, "depth_chin_mm": 0.5, "passes": 3, "endpoint": "erythema",
        "device_type": "pen", "speed": 8.0,
    }
    assert s.history.first().history_user == clinician
    page = clinician_client.get(s.get_absolute_url()).content.decode()
    assert f"lot {lot.number}" in page and "Needle depth, malar (mm)" in page


# (modality, changed fields, confirm, field with a message, message; None = recorded)
PARAMETER_TABLE = [
    (rules.MICRONEEDLING, {}, False, None, None),
    (rules.MICRONEEDLING, {"depth_malar_mm": "2.0"}, False, "depth_malar_mm", rules.WARN_MN_DEPTH),
    (rules.MICRONEEDLING, {"depth_malar_mm": "2.0"}, True, None, None),
    (rules.MICRONEEDLING, {"depth_malar_mm": "4"}, True, "depth_malar_mm", rules.ERR_TOO_DEEP),
    (rules.MICRONEEDLING, {"depth_chin_mm": "0"}, True, "depth_chin_mm", rules.ERR_NOT_POSITIVE),
    (rules.MICRONEEDLING, {"passes": "12"}, False, "passes", rules.WARN_PASSES),
    (rules.MICRONEEDLING, {"passes": "0"}, True, "passes", rules.ERR_NOT_WHOLE),
    (rules.MICRONEEDLING, {"speed": "-1"}, True, "speed", rules.ERR_NOT_POSITIVE),
    (rules.NAFL, {}, False, None, None),
    (rules.NAFL, {"wavelength_nm": "1064"}, True, "wavelength_nm", rules.ERR_WAVELENGTH),
    (rules.NAFL, {"wavelength_nm": "1550"}, False, "wavelength_nm", rules.WARN_NAFL_1550),
    (rules.NAFL, {"wavelength_nm": "1550"}, True, None, None),
    (rules.NAFL, {"energy_mj": "50"}, False, "energy_mj", rules.WARN_NAFL_ENERGY),
    (rules.NAFL, {"energy_mj": "150"}, True, "energy_mj", rules.ERR_ENERGY_TOO_HIGH),
    (rules.NAFL, {"density_percent": "35"}, False, "density_percent", rules.WARN_NAFL_DENSITY),
    (rules.NAFL, {"density_percent": "120"}, True, "density_percent", rules.ERR_DENSITY),
    (rules.NAFL, {"total_energy_kj": "0"}, True, "total_energy_kj", rules.ERR_NOT_POSITIVE),
    (rules.RF_MICRONEEDLING, {}, False, None, None),
    (rules.RF_MICRONEEDLING, {"needle_depth_mm": "3.6"}, True, "needle_depth_mm", rules.ERR_TOO_DEEP),
    (rules.RF_MICRONEEDLING, {"power_level": "0"}, True, "power_level", rules.ERR_NOT_POSITIVE),
    (rules.RF_MICRONEEDLING, {"pulse_duration_ms": "-5"}, True, "pulse_duration_ms", rules.ERR_NOT_POSITIVE),
    (rules.RF_MICRONEEDLING, {"pins": "0"}, True, "pins", rules.ERR_NOT_WHOLE),
    (rules.RF_MICRONEEDLING, {"passes": "11"}, False, "passes", rules.WARN_PASSES),
    (rules.RF_MICRONEEDLING, {"passes": "11"}, True, None, None),
]


@pytest.mark.parametrize("modality, changes, confirm, field, message", PARAMETER_TABLE)
def test_device_settings_table(clinician_client, clinician, lot, modality, changes, confirm, field, message):
    session = make_session(modality)
    services.pre_session_check_record(session=session, answers=GOOD_ANSWERS, by=clinician)
    post = record_post(clinician, lot, modality, **changes)
    if confirm:
        post["confirm_warnings"] = "on"
    response = clinician_client.post(reverse("plans:session_record", args=[session.pk]), post)
    session.refresh_from_db()
    if message is None:
        assert response.status_code == 302
        assert session.status == SessionStatus.COMPLETED
        return
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    if message.startswith(("Deeper", "Outside", "Above", "A split")):
        assert services.ERR_WARNINGS_UNCONFIRMED in response.context["form"].errors["confirm_warnings"]
    assert session.status == SessionStatus.PLANNED and session.performed_at is None  # nothing saved


def test_confirmed_warnings_are_kept_with_the_settings(clinician_client, clinician, checked_session, lot):
    post = record_post(clinician, lot, depth_malar_mm="2.0", confirm_warnings="on")
    clinician_client.post(reverse("plans:session_record", args=[checked_session.pk]), post)
    checked_session.refresh_from_db()
    assert checked_session.device_settings["confirmed_warnings"] == {"depth_malar_mm": rules.WARN_MN_DEPTH}


@pytest.mark.parametrize(
    "lot_kwargs, message_start",
    [
        ({"expiry_date": timezone.localdate() - dt.timedelta(days=1)}, "Lot LOT-EXP expired on"),
        ({"recalled_at": timezone.now(), "recall_reason": "sterility failure"}, "Lot LOT-EXP was recalled (sterility failure)"),
    ],
)
def test_expired_or_recalled_lot_is_refused_with_a_clear_field_error(
    clinician_client, clinician, checked_session, lot_kwargs, message_start
):
    bad = LotFactory(number="LOT-EXP", **lot_kwargs)
    response = clinician_client.post(reverse("plans:session_record", args=[checked_session.pk]), record_post(clinician, bad))
    assert response.status_code == 200
    assert response.context["form"].errors["exosome_lot"][0].startswith(message_start)
    checked_session.refresh_from_db()
    assert checked_session.status == SessionStatus.PLANNED and checked_session.exosome_lot is None


def test_lot_expiring_on_the_session_day_is_still_usable(clinician, lot):
    lot.expiry_date = dt.date(2026, 3, 1)
    assert services.lot_usability_error(lot, dt.date(2026, 3, 1)) is None
    assert services.lot_usability_error(lot, dt.date(2026, 3, 2)).startswith(f"Lot {lot.number} expired")


def test_bad_input_leaves_the_database_unchanged(clinician_client, clinician, checked_session, lot):
    before = TreatmentSession.history.count()
    response = clinician_client.post(
        reverse("plans:session_record", args=[checked_session.pk]),
        record_post(clinician, lot, depth_forehead_mm="abc", exosome_volume_ml="-3", performed_by=None),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"depth_forehead_mm", "exosome_volume_ml", "performed_by"} <= set(errors)
    checked_session.refresh_from_db()
    assert checked_session.status == SessionStatus.PLANNED
    assert TreatmentSession.history.count() == before


def test_recording_in_the_future_is_refused(clinician_client, clinician, checked_session, lot):
    later = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = clinician_client.post(
        reverse("plans:session_record", args=[checked_session.pk]), record_post(clinician, lot, performed_at=later)
    )
    assert services.ERR_PERFORMED_IN_FUTURE in response.context["form"].errors["performed_at"]


def test_recording_needs_an_active_plan_and_todays_passing_check(clinician, lot):
    session = make_session()
    record = services.SessionRecord(
        performed_at=timezone.now(), performed_by=clinician, device_name="Dermapen", device_settings={"passes": 2},
        exosome_lot=lot, exosome_volume_ml=None,
    )
    with pytest.raises(ValidationError, match=services.ERR_NEEDS_PASSING_CHECK):
        services.session_record(session=session, record=record, confirm_warnings=False, by=clinician)
    check = services.pre_session_check_record(session=session, answers=GOOD_ANSWERS, by=clinician)
    PreSessionCheck.objects.filter(pk=check.pk).update(at=timezone.now() - dt.timedelta(days=2))
    with pytest.raises(ValidationError, match=services.ERR_NEEDS_PASSING_CHECK):
        services.session_record(session=session, record=record, confirm_warnings=False, by=clinician)
    session.plan.state = "stopped"
    session.plan.save()
    with pytest.raises(ValidationError, match=services.ERR_PLAN_NOT_ACTIVE):
        services.session_record(session=session, record=record, confirm_warnings=False, by=clinician)


# --- completed sessions are immutable; amendments keep the original ------------------------------------------


@pytest.fixture
def completed(clinician_client, clinician, checked_session, lot):
    clinician_client.post(reverse("plans:session_record", args=[checked_session.pk]), record_post(clinician, lot))
    checked_session.refresh_from_db()
    assert checked_session.status == SessionStatus.COMPLETED
    return checked_session


def test_completed_session_cannot_be_edited_in_place(clinician_client, clinician, completed, lot):
    other_lot = LotFactory()
    response = clinician_client.post(
        reverse("plans:session_record", args=[completed.pk]), record_post(clinician, other_lot, depth_malar_mm="0.3")
    )
    assert response.status_code == 302 and response.url == reverse("plans:session_amend", args=[completed.pk])
    completed.refresh_from_db()
    assert completed.exosome_lot == lot and completed.device_settings["depth_malar_mm"] == 0.5
    with pytest.raises(ValidationError, match="already recorded"):
        record = services.SessionRecord(
            performed_at=timezone.now(), performed_by=clinician, device_name="x", device_settings={},
            exosome_lot=None, exosome_volume_ml=None,
        )
        services.session_record(session=completed, record=record, confirm_warnings=True, by=clinician)
    # The pre-session check is closed too.
    assert clinician_client.get(reverse("plans:session_check", args=[completed.pk])).status_code == 302


def test_amendment_keeps_the_original_and_requires_a_reason(clinician_client, clinician, completed, lot):
    url = reverse("plans:session_amend", args=[completed.pk])
    page = clinician_client.get(url).content.decode()
    assert 'name="depth_malar_mm" value="0.5"' in page  # starts from the recorded values

    no_reason = clinician_client.post(url, {**record_post(clinician, lot, depth_malar_mm="0.7"), "reason": ""})
    assert no_reason.status_code == 200 and "reason" in no_reason.context["form"].errors
    assert not SessionAmendment.objects.exists()

    response = clinician_client.post(
        url, {**record_post(clinician, lot, depth_malar_mm="0.7"), "reason": "Transcription error: malar was 0.7"}
    )
    assert response.status_code == 302
    completed.refresh_from_db()
    assert completed.device_settings["depth_malar_mm"] == 0.7
    amendment = SessionAmendment.objects.get(session=completed)
    assert amendment.reason == "Transcription error: malar was 0.7" and amendment.by == clinician
    assert amendment.before == {"device_settings": {**amendment.before["device_settings"], "depth_malar_mm": 0.5}}
    assert amendment.after["device_settings"]["depth_malar_mm"] == 0.7
    # History keeps both versions.
    versions = [h.device_settings["depth_malar_mm"] for h in completed.history.order_by("history_date") if h.device_settings]
    assert versions[-2:] == [0.5, 0.7]
    page = clinician_client.get(completed.get_absolute_url()).content.decode()
    assert "Transcription error: malar was 0.7" in page


def test_amendment_with_no_change_is_refused(clinician_client, clinician, completed, lot):
    response = clinician_client.post(
        reverse("plans:session_amend", args=[completed.pk]), {**record_post(clinician, lot), "reason": "checking"}
    )
    assert response.status_code == 200
    assert services.ERR_NO_CHANGES in response.context["form"].non_field_errors()
    assert services.ERR_NO_CHANGES in response.content.decode()
    assert not SessionAmendment.objects.exists()


def test_amendment_keeps_a_lot_recalled_after_use_but_refuses_a_new_bad_lot(clinician_client, clinician, completed, lot):
    services.lot_recall(lot=lot, reason="supplier notice", by=clinician)
    url = reverse("plans:session_amend", args=[completed.pk])
    ok = clinician_client.post(url, {**record_post(clinician, lot, notes="Added detail."), "reason": "more detail"})
    assert ok.status_code == 302
    expired = LotFactory(expiry_date=timezone.localdate() - dt.timedelta(days=400))
    bad = clinician_client.post(url, {**record_post(clinician, expired, notes="Added detail."), "reason": "lot fix"})
    assert bad.status_code == 200 and "exosome_lot" in bad.context["form"].errors
    completed.refresh_from_db()
    assert completed.exosome_lot == lot


def test_sessions_are_never_deleted(completed):
    with pytest.raises(PermissionError):
        completed.delete()
    with pytest.raises(PermissionError):
        TreatmentSession.objects.all().delete()


# --- the session page by role ---------------------------------------------------------------------------


def test_session_page_by_role(role_clients, completed):
    url = completed.get_absolute_url()
    clinician_page = role_clients["clinician"].get(url).content.decode()
    assert "Amend" in clinician_page and "Record adverse event" in clinician_page
    desk = role_clients["front_desk"].get(url)
    assert desk.status_code == 200
    desk_page = desk.content.decode()
    assert "Needle depth, malar (mm)" in desk_page  # what was done
    for name in ("session_amend", "session_adverse_event_new", "session_assessment_new", "session_photo_new",
                 "session_check", "session_record"):
        assert reverse(f"plans:{name}", args=[completed.pk]) not in desk_page
    assert "Photos" not in desk_page
    assert role_clients["manager"].get(url).status_code == 200


def test_recording_a_session_completes_its_booking(clinician_client, clinician, checked_session, lot):
    from plans.models import Appointment, AppointmentStatus
    from tests.factories import AppointmentFactory

    booking = AppointmentFactory(patient=checked_session.plan.patient, plan=checked_session.plan,
                                 session=checked_session, status=AppointmentStatus.CHECKED_IN,
                                 start=timezone.now() - dt.timedelta(minutes=30))
    other = AppointmentFactory(patient=checked_session.plan.patient, status=AppointmentStatus.BOOKED)
    clinician_client.post(reverse("plans:session_record", args=[checked_session.pk]), record_post(clinician, lot))
    assert Appointment.objects.get(pk=booking.pk).status == AppointmentStatus.COMPLETED
    assert Appointment.objects.get(pk=other.pk).status == AppointmentStatus.BOOKED  # another visit untouched
