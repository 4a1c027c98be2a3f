"""Issue 12 §3: the screening rules that were missing. Each threshold at, just inside and just outside, as pure
rules and then through the builder's preview and activation with the clock frozen."""

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from plans import rules
from plans.models import Plan
from plans.rules import AdjunctSpec, FindingKind, RuleConfig, ScreeningAnswers
from plans.selectors import course as selectors
from plans.services import course as services
from tests.factories import PatientFactory
from tests.plans.course_helpers import builder_data, make_plan, ready_plan

TODAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/London"))
CLEAN = ScreeningAnswers(pregnancy_status_confirmed_on=TODAY, screening_confirmed_on=TODAY, sex="F")
MN = rules.MICRONEEDLING


def codes(findings):
    return {f.code for f in findings}


def only(findings, code):
    [finding] = [f for f in findings if f.code == code]
    return finding


# --- Hydroquinone: more than 6 months continuous (S39, S40) ---------------------------------------------------


@pytest.mark.parametrize(
    "start, stop, course_end, warned",
    [
        (dt.date(2025, 9, 10), dt.date(2026, 3, 10), None, False),  # exactly 6 months
        (dt.date(2025, 9, 11), dt.date(2026, 3, 10), None, False),  # a day inside
        (dt.date(2025, 9, 9), dt.date(2026, 3, 10), None, True),  # a day beyond
        # No stop date: continuous through today at least ...
        (dt.date(2025, 9, 10), None, None, False),
        (dt.date(2025, 9, 9), None, None, True),
        (dt.date(2023, 1, 1), None, None, True),  # started long ago, never stopped
        # ... and through the course's last session.
        (dt.date(2026, 1, 1), None, dt.date(2026, 7, 1), False),
        (dt.date(2026, 1, 1), None, dt.date(2026, 7, 2), True),
        (None, None, dt.date(2027, 1, 1), False),  # start not recorded: nothing to judge
    ],
)
def test_hydroquinone_duration(start, stop, course_end, warned):
    spec = AdjunctSpec(rules.HYDROQUINONE, start_date=start, stop_date=stop)
    findings = rules.screen(CLEAN, MN, [spec], TODAY, course_end=course_end)
    assert (rules.CODE_HYDROQUINONE_DURATION in codes(findings)) is warned
    if warned:
        finding = only(findings, rules.CODE_HYDROQUINONE_DURATION)
        assert finding.kind is FindingKind.ADJUNCT and finding.overridable and not finding.hard_stop
        assert "ochronosis" in finding.message and start.strftime("%d %B %Y") in finding.message


@pytest.mark.parametrize("months, warned", [(0, False), (7, False), (6, True)])
def test_hydroquinone_duration_is_a_setting(months, warned):
    spec = AdjunctSpec(rules.HYDROQUINONE, start_date=dt.date(2025, 9, 9), stop_date=TODAY)
    cfg = RuleConfig(hydroquinone_max_continuous_months=months)
    assert (rules.CODE_HYDROQUINONE_DURATION in codes(rules.screen(CLEAN, MN, [spec], TODAY, cfg))) is warned


# --- Triple combination: beyond 8 weeks (S36, S78) and in types V–VI ------------------------------------------


@pytest.mark.parametrize("days, warned", [(55, False), (56, False), (57, True)])
def test_triple_combination_duration(days, warned):
    spec = AdjunctSpec(rules.TRIPLE_COMBINATION, start_date=TODAY, stop_date=TODAY + dt.timedelta(days=days))
    findings = rules.screen(CLEAN, MN, [spec], TODAY)
    assert (rules.CODE_TRIPLE_COMBINATION_DURATION in codes(findings)) is warned


@pytest.mark.parametrize("weeks, days, warned", [(12, 84, False), (12, 85, True), (0, 400, False)])
def test_triple_combination_duration_is_a_setting(weeks, days, warned):
    spec = AdjunctSpec(rules.TRIPLE_COMBINATION, start_date=TODAY, stop_date=TODAY + dt.timedelta(days=days))
    cfg = RuleConfig(triple_combination_max_weeks=weeks)
    assert (rules.CODE_TRIPLE_COMBINATION_DURATION in codes(rules.screen(CLEAN, MN, [spec], TODAY, cfg))) is warned


@pytest.mark.parametrize("fitzpatrick, cautioned", [(None, False), (4, False), (5, True), (6, True)])
def test_triple_combination_in_darker_skin(fitzpatrick, cautioned):
    answers = replace(CLEAN, fitzpatrick_type=fitzpatrick)
    findings = rules.screen(answers, MN, [AdjunctSpec(rules.TRIPLE_COMBINATION)], TODAY)
    assert (rules.CODE_TRIPLE_COMBINATION_DARK_SKIN in codes(findings)) is cautioned
    if cautioned:
        assert only(findings, rules.CODE_TRIPLE_COMBINATION_DARK_SKIN).kind is FindingKind.ADJUNCT


# --- Hard stops and cautions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "agent, changes, code",
    [
        (rules.TXA_ORAL, {"thrombosis_history": True}, rules.CODE_TXA_THROMBOSIS),
        (rules.TXA_ORAL, {"hormonal_contraception": "combined"}, rules.CODE_TXA_COMBINED_CONTRACEPTION),
        (rules.HYDROQUINONE, {"is_pregnant": True}, "hydroquinone_pregnancy"),
        (rules.TRIPLE_COMBINATION, {"is_pregnant": True}, "triple_combination_pregnancy"),
        (rules.TRETINOIN, {"is_pregnant": True}, "tretinoin_pregnancy"),
    ],
)
def test_hard_stops_cannot_be_overridden(agent, changes, code):
    findings = rules.screen(replace(CLEAN, **changes), MN, [AdjunctSpec(agent)], TODAY)
    finding = only(findings, code)
    assert finding.kind is FindingKind.ADJUNCT and finding.hard_stop and not finding.overridable
    assert finding.action == rules.ACTION_REMOVE_ADJUNCT
    blockers = rules.activation_blockers(findings, {f.code for f in findings}, True, True, False)
    assert rules.BLOCK_HARD_STOP.format(message=finding.message) in blockers
    # Removing the adjunct is what clears it.
    assert code not in codes(rules.screen(replace(CLEAN, **changes), MN, [], TODAY))


@pytest.mark.parametrize("agent", [rules.TRETINOIN, rules.HYDROQUINONE, rules.TRIPLE_COMBINATION])
def test_adjunct_cautions_keep_a_written_override(agent):
    findings = rules.screen(replace(CLEAN, is_breastfeeding=True), MN, [AdjunctSpec(agent)], TODAY)
    finding = only(findings, f"{agent}_breastfeeding")
    assert finding.kind is FindingKind.ADJUNCT and finding.overridable and finding.action == rules.ACTION_OVERRIDE
    unrelated = [f for f in findings if f.code == finding.code]
    assert rules.activation_blockers(unrelated, {finding.code}, True, True, False) == []


def test_every_finding_shows_one_of_the_four_kinds_with_its_action():
    answers = replace(CLEAN, is_breastfeeding=True, keloid_tendency=True, hsv_history=True, thrombosis_history=True)
    findings = rules.screen(answers, MN, [AdjunctSpec(rules.TXA_ORAL), AdjunctSpec(rules.TRETINOIN)], TODAY)
    assert {f.kind.label for f in findings} == {
        "Absolute contraindication", "Relative contraindication", "Adjunct", "Reminder"
    }
    agent_codes = {f.code for f in findings if f.code.startswith(("txa_oral_", "tretinoin_")) and not f.code.endswith("_pause")}
    assert agent_codes and all(only(findings, c).kind in (FindingKind.ADJUNCT, FindingKind.REMINDER) for c in agent_codes)
    assert all(f.action for f in findings)


# --- Smaller gaps ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("days_ago, active", [(0, True), (1, False), (-1, True)])
def test_herpes_outbreak_dated_today_is_an_active_lesion(days_ago, active):
    answers = replace(CLEAN, hsv_history=True, hsv_last_outbreak=TODAY - dt.timedelta(days=days_ago))
    findings = rules.screen(answers, MN, [], TODAY)
    assert (rules.CODE_HSV_ACTIVE_OUTBREAK in codes(findings)) is active
    if active:
        assert only(findings, rules.CODE_HSV_ACTIVE_OUTBREAK).kind is FindingKind.ABSOLUTE


def test_isotretinoin_finding_names_the_date_treatment_is_possible():
    answers = replace(CLEAN, isotretinoin_last_dose=dt.date(2026, 1, 31))
    finding = only(rules.screen(answers, MN, [], TODAY), rules.CODE_ISOTRETINOIN)
    assert "possible from 31 July 2026" in finding.message and "31 January 2026" in finding.message


@pytest.mark.parametrize(
    "uses_exosome, consent_exosome, blocked",
    [(True, False, True), (True, True, False), (False, False, False)],
)
def test_exosome_consent_only_with_an_exosome_product(uses_exosome, consent_exosome, blocked):
    blockers = rules.activation_blockers([], set(), True, consent_exosome, False, uses_exosome=uses_exosome)
    assert (rules.BLOCK_CONSENT_EXOSOME in blockers) is blocked


@pytest.mark.parametrize(
    "sex, born, pregnant, applies",
    [
        ("F", dt.date(1970, 3, 10), False, False),  # 56 today
        ("F", dt.date(1970, 3, 11), False, True),  # 55 until tomorrow
        ("F", dt.date(1971, 3, 10), False, True),  # 55 today
        ("M", dt.date(1990, 1, 1), False, False),
        ("X", dt.date(1990, 1, 1), False, True),
        ("F", None, False, True),
        ("M", dt.date(1990, 1, 1), True, True),  # a recorded pregnancy always applies
    ],
)
def test_pregnancy_questions_apply_only_where_they_can(sex, born, pregnant, applies):
    answers = replace(CLEAN, sex=sex, date_of_birth=born, is_pregnant=pregnant, pregnancy_status_confirmed_on=None)
    assert rules.could_be_pregnant(answers, TODAY) is applies
    findings = rules.screen(answers, MN, [], TODAY)
    assert (rules.CODE_PREGNANCY_STATUS in codes(findings)) is (applies and not pregnant)


# --- Typed device settings against the skin type (S18) ---------------------------------------------------------


@pytest.mark.parametrize(
    "modality, fitzpatrick, params, field, warned",
    [
        (MN, 3, {"needle_depth_mm": 0.5}, "needle_depth_mm", False),
        (MN, 4, {"needle_depth_mm": 0.2}, "needle_depth_mm", False),  # at the ceiling
        (MN, 4, {"needle_depth_mm": 0.19}, "needle_depth_mm", False),
        (MN, 4, {"needle_depth_mm": 0.21}, "needle_depth_mm", True),
        (MN, None, {"needle_depth_mm": 0.21}, "needle_depth_mm", True),  # type not recorded: the safe side
        (MN, 6, {"zone_depths_mm": {"malar": 0.3}}, "zone_depths_mm.malar", True),
        (rules.NAFL, 5, {"energy_mj": 10}, "energy_mj", False),
        (rules.NAFL, 5, {"energy_mj": 11}, "energy_mj", True),
        (rules.NAFL, 5, {"density_percent": 11}, "density_percent", True),
        (rules.NAFL, 5, {"passes": 5}, "passes", True),
        (rules.NAFL, 3, {"energy_mj": 20, "density_percent": 20, "passes": 6}, "energy_mj", False),
    ],
)
def test_typed_settings_against_darker_skin_ceilings(modality, fitzpatrick, params, field, warned):
    check = rules.check_device_settings(modality, params, for_patient=True, fitzpatrick=fitzpatrick)
    assert check.ok
    assert (field in check.warnings) is warned
    if warned:
        assert "Fitzpatrick IV–VI" in check.warnings[field]
    # A protocol template has no patient: no ceiling.
    assert field not in rules.check_device_settings(modality, params).warnings


# --- Through the builder's preview and activation, the clock frozen --------------------------------------------

def _hq_row(start, stop):
    return {
        "adjuncts-0-agent": "hydroquinone", "adjuncts-0-start_date": start.isoformat() if start else "",
        "adjuncts-0-stop_date": stop.isoformat() if stop else "",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "months_before, extra_days, warned",
    [(6, 0, False), (6, -1, False), (6, 1, True)],  # at, inside, outside
)
def test_builder_preview_shows_the_hydroquinone_duration(clinician_client, time_machine, months_before, extra_days, warned):
    time_machine.move_to(NOW, tick=False)
    stop = TODAY + dt.timedelta(days=7)
    start = rules.add_months(stop, -months_before) - dt.timedelta(days=extra_days)
    patient = PatientFactory(fitzpatrick_type=2)
    data = builder_data(save=None, preview="1", **_hq_row(start, stop))
    response = clinician_client.post(f"/patients/{patient.pk}/plans/new/", data)
    assert response.status_code == 200 and not Plan.objects.exists()
    findings = response.context["preview"]["findings"]
    assert (rules.CODE_HYDROQUINONE_DURATION in codes(findings)) is warned
    assert ("ochronosis" in response.text) is warned


@pytest.mark.django_db
def test_builder_preview_judges_an_open_ended_adjunct_through_the_course(clinician_client, time_machine):
    time_machine.move_to(NOW, tick=False)
    patient = PatientFactory(fitzpatrick_type=2)
    # Started 4 months ago, no stop date: the 4-session course (last session 12 weeks after next week) takes it past 6.
    data = builder_data(save=None, preview="1", **_hq_row(rules.add_months(TODAY, -4), None))
    response = clinician_client.post(f"/patients/{patient.pk}/plans/new/", data)
    assert rules.CODE_HYDROQUINONE_DURATION in codes(response.context["preview"]["findings"])
    data = builder_data(save=None, preview="1", sessions_planned="1", **_hq_row(rules.add_months(TODAY, -4), None))
    response = clinician_client.post(f"/patients/{patient.pk}/plans/new/", data)
    assert rules.CODE_HYDROQUINONE_DURATION not in codes(response.context["preview"]["findings"])


@pytest.mark.django_db
@pytest.mark.parametrize("days, warned", [(55, False), (56, False), (57, True)])
def test_activation_needs_a_written_reason_for_triple_combination_beyond_8_weeks(clinician, time_machine, days, warned):
    time_machine.move_to(NOW, tick=False)
    adjunct = {"agent": "triple_combination", "start_date": TODAY, "stop_date": TODAY + dt.timedelta(days=days)}
    plan = ready_plan(clinician, patient=PatientFactory(fitzpatrick_type=2), adjuncts=[adjunct])
    if not warned:
        services.plan_activate(plan=plan, by=clinician)
        plan.refresh_from_db()
        assert plan.state == "active"
        return
    with pytest.raises(ValidationError) as error:
        services.plan_activate(plan=plan, by=clinician)
    assert any("beyond the label" in m for m in error.value.messages)
    services.finding_override_record(
        plan=plan, code=rules.CODE_TRIPLE_COMBINATION_DURATION, reason="Short overlap agreed; stop date set.", by=clinician
    )
    services.plan_activate(plan=plan, by=clinician)
    plan.refresh_from_db()
    assert plan.state == "active"


@pytest.mark.django_db
def test_hard_stop_blocks_activation_until_the_adjunct_is_removed(clinician, clinician_client, time_machine):
    time_machine.move_to(NOW, tick=False)
    patient = PatientFactory(thrombosis_history=True, fitzpatrick_type=2)
    plan = ready_plan(clinician, patient=patient, adjuncts=[{"agent": "txa_oral", "strength": "250 mg"}])
    page = clinician_client.get(f"/plans/{plan.pk}/").text
    assert rules.ACTION_REMOVE_ADJUNCT in page and "(S47" not in page
    with pytest.raises(ValidationError, match="no finding needing an override"):
        services.finding_override_record(plan=plan, code=rules.CODE_TXA_THROMBOSIS, reason="Patient insists.", by=clinician)
    with pytest.raises(ValidationError) as error:
        services.plan_activate(plan=plan, by=clinician)
    assert rules.BLOCK_HARD_STOP.format(message=rules.MSG_TXA_THROMBOSIS) in error.value.messages
    services.plan_update(plan=plan, by=clinician, adjuncts=[])
    services.plan_activate(plan=plan, by=clinician)
    plan.refresh_from_db()
    assert plan.state == "active"


@pytest.mark.django_db
def test_a_hard_stop_adjunct_cannot_be_added_to_an_active_plan(clinician, time_machine):
    time_machine.move_to(NOW, tick=False)
    patient = PatientFactory(thrombosis_history=True, fitzpatrick_type=2)
    plan = ready_plan(clinician, patient=patient, adjuncts=[{"agent": "niacinamide"}])
    services.plan_activate(plan=plan, by=clinician)
    with pytest.raises(ValidationError, match="cannot be overridden"):
        services.plan_update(plan=plan, by=clinician, adjuncts=[{"agent": "txa_oral", "strength": "250 mg"}])
    assert [a.agent for a in plan.adjuncts.all()] == ["niacinamide"]


@pytest.mark.django_db
def test_a_plan_without_an_exosome_product_activates_without_exosome_consent(clinician, time_machine):
    from plans.models import ConsentKind
    from tests.factories import ConsentFactory
    from tests.plans.course_helpers import consent_texts

    time_machine.move_to(NOW, tick=False)
    plan = make_plan(clinician, patient=PatientFactory(fitzpatrick_type=2), exosome_product=None)
    ConsentFactory(plan=plan, text=consent_texts()[plan.modality], clinician=clinician)
    state = selectors.activation_state(selectors.plan_for_page(plan.pk))
    assert state["consent"]["complete"] and rules.BLOCK_CONSENT_EXOSOME not in state["blockers"]
    services.plan_activate(plan=plan, by=clinician)
    with_product = make_plan(clinician, patient=PatientFactory(fitzpatrick_type=2))
    ConsentFactory(plan=with_product, text=consent_texts()[ConsentKind.MICRONEEDLING], clinician=clinician)
    with pytest.raises(ValidationError, match="exosome"):
        services.plan_activate(plan=with_product, by=clinician)


@pytest.mark.django_db
def test_pre_session_check_asks_about_pregnancy_only_where_it_can_apply(clinician_client, time_machine):
    from tests.factories import PlanFactory, TreatmentSessionFactory

    time_machine.move_to(NOW, tick=False)
    for sex, born, asked in [("M", dt.date(1990, 5, 1), False), ("F", dt.date(1990, 5, 1), True),
                             ("F", dt.date(1960, 5, 1), False)]:
        plan = PlanFactory(state="active", patient=PatientFactory(sex=sex, date_of_birth=born), start_date=TODAY)
        session = TreatmentSessionFactory(plan=plan, number=1)
        page = clinician_client.get(reverse("plans:session_check", args=[session.pk])).text
        assert ('name="pregnant"' in page) is asked, (sex, born)


@pytest.mark.django_db
@pytest.mark.parametrize("fitzpatrick, needs_confirmation", [(3, False), (5, True)])
def test_recording_typed_settings_above_the_ceiling_needs_confirmation(
    clinician_client, clinician, time_machine, fitzpatrick, needs_confirmation
):
    from plans.models import SessionStatus
    from plans.services import visits as visit_services
    from tests.factories import LotFactory
    from tests.plans.test_visits_sessions import GOOD_ANSWERS, make_session, record_post

    time_machine.move_to(NOW, tick=False)
    lot = LotFactory()
    session = make_session(patient=PatientFactory(fitzpatrick_type=fitzpatrick))
    visit_services.pre_session_check_record(session=session, answers=GOOD_ANSWERS, by=clinician)
    url = reverse("plans:session_record", args=[session.pk])
    response = clinician_client.post(url, record_post(clinician, lot))  # 0.5 mm typed in every zone
    session.refresh_from_db()
    if not needs_confirmation:
        assert response.status_code == 302 and session.status == SessionStatus.COMPLETED
        return
    assert response.status_code == 200 and session.status != SessionStatus.COMPLETED
    assert "Fitzpatrick IV–VI" in response.text
    response = clinician_client.post(url, {**record_post(clinician, lot), "confirm_warnings": "on"})
    session.refresh_from_db()
    assert response.status_code == 302 and session.status == SessionStatus.COMPLETED
    assert "depth_malar_mm" in session.device_settings["confirmed_warnings"]


@pytest.mark.django_db
@pytest.mark.parametrize("days, warned", [(55, False), (56, False), (57, True)])
def test_builder_preview_shows_triple_combination_beyond_8_weeks(clinician_client, time_machine, days, warned):
    time_machine.move_to(NOW, tick=False)
    patient = PatientFactory(fitzpatrick_type=2)
    data = builder_data(save=None, preview="1", **{
        "adjuncts-0-agent": "triple_combination", "adjuncts-0-start_date": TODAY.isoformat(),
        "adjuncts-0-stop_date": (TODAY + dt.timedelta(days=days)).isoformat(),
    })
    response = clinician_client.post(f"/patients/{patient.pk}/plans/new/", data)
    assert (rules.CODE_TRIPLE_COMBINATION_DURATION in codes(response.context["preview"]["findings"])) is warned


@pytest.mark.django_db
@pytest.mark.parametrize("extra_days, warned", [(0, False), (-1, False), (1, True)])  # at, inside, outside 6 months
def test_activation_needs_a_written_reason_for_hydroquinone_beyond_6_months(clinician, time_machine, extra_days, warned):
    time_machine.move_to(NOW, tick=False)
    stop = TODAY + dt.timedelta(days=30)
    adjunct = {"agent": "hydroquinone", "start_date": rules.add_months(stop, -6) - dt.timedelta(days=extra_days),
               "stop_date": stop}
    plan = ready_plan(clinician, patient=PatientFactory(fitzpatrick_type=2), adjuncts=[adjunct])
    blockers = selectors.activation_state(selectors.plan_for_page(plan.pk))["blockers"]
    assert any("ochronosis" in b for b in blockers) is warned
    if warned:
        with pytest.raises(ValidationError):
            services.plan_activate(plan=plan, by=clinician)
        services.finding_override_record(
            plan=plan, code=rules.CODE_HYDROQUINONE_DURATION, reason="Pause planned after session 2.", by=clinician
        )
    services.plan_activate(plan=plan, by=clinician)
    plan.refresh_from_db()
    assert plan.state == "active"
