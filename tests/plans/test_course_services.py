"""Course services and selectors: sessions follow the plan, findings block activation, consent, lifecycle."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from plans import rules
from plans.models import ConsentKind, ConsentText, FindingOverride, Plan, ProtocolTemplate, TreatmentSession
from plans.models.visits import SessionStatus
from plans.selectors import course as selectors
from plans.services import course as services
from tests.factories import AppointmentFactory, ConsentFactory, PatientFactory
from tests.plans.course_helpers import consent_plan, consent_texts, make_plan, plan_in_state, ready_plan

pytestmark = pytest.mark.django_db


def statuses(plan):
    return list(TreatmentSession.objects.filter(plan=plan).order_by("number").values_list("number", "status"))


def test_plan_create_makes_the_draft_its_sessions_and_adjuncts(clinician):
    plan = make_plan(clinician, sessions=3, adjuncts=[{"agent": "hydroquinone", "strength": "4%", "pause_days_before": None}])
    assert plan.state == "draft" and plan.created_by == clinician
    assert statuses(plan) == [(1, "planned"), (2, "planned"), (3, "planned")]
    [adjunct] = plan.adjuncts.all()
    assert adjunct.pause_days_before == rules.DEFAULT_PAUSE_DAYS["hydroquinone"]  # blank = the agent's default
    assert plan.history.first().history_user == clinician


@pytest.mark.parametrize("sessions", [0, 7])
def test_plan_create_refuses_an_impossible_course_and_saves_nothing(clinician, sessions):
    with pytest.raises(ValidationError):
        make_plan(clinician, sessions=sessions)
    assert not Plan.objects.exists() and not TreatmentSession.objects.exists()


def test_changing_the_number_of_sessions_adds_or_cancels_only_sessions_not_performed(clinician):
    plan = make_plan(clinician, sessions=4)
    performed = TreatmentSession.objects.get(plan=plan, number=1)
    performed.status, performed.performed_at, performed.notes = SessionStatus.COMPLETED, timezone.now(), "as done"
    performed.save()

    services.plan_update(plan=plan, by=clinician, sessions_planned=2)
    assert statuses(plan) == [(1, "completed"), (2, "planned"), (3, "cancelled"), (4, "cancelled")]
    services.plan_update(plan=plan, by=clinician, sessions_planned=5, interval_days=21)
    assert statuses(plan) == [(1, "completed"), (2, "planned"), (3, "planned"), (4, "planned"), (5, "planned")]
    performed.refresh_from_db()
    assert performed.notes == "as done" and performed.status == "completed"


def test_a_course_cannot_shrink_below_a_performed_session(clinician):
    plan = make_plan(clinician, sessions=4)
    TreatmentSession.objects.filter(plan=plan, number=3).update(status=SessionStatus.COMPLETED, performed_at=timezone.now())
    with pytest.raises(ValidationError, match="Session 3 has already been performed"):
        services.plan_update(plan=plan, by=clinician, sessions_planned=2)
    plan.refresh_from_db()
    assert plan.sessions_planned == 4


def test_a_course_cannot_drop_a_booked_session(clinician):
    plan = make_plan(clinician, sessions=4)
    session = TreatmentSession.objects.get(plan=plan, number=4)
    AppointmentFactory(patient=plan.patient, plan=plan, session=session)
    with pytest.raises(ValidationError, match="Session 4 has a live booking"):
        services.plan_update(plan=plan, by=clinician, sessions_planned=3)
    assert statuses(plan)[-1] == (4, "planned")


def test_new_interval_moves_only_the_sessions_still_to_come(clinician):
    start = timezone.localdate() - dt.timedelta(days=30)
    plan = make_plan(clinician, sessions=3, start=start)
    done_on = start + dt.timedelta(days=2)
    TreatmentSession.objects.filter(plan=plan, number=1).update(
        status=SessionStatus.COMPLETED, performed_at=timezone.make_aware(dt.datetime.combine(done_on, dt.time(10)))
    )
    services.plan_update(plan=plan, by=clinician, interval_days=35)
    rows = selectors.plan_timeline(selectors.plan_for_page(plan.pk))["rows"]
    assert rows[0]["status"] == "done" and rows[0]["performed_on"] == done_on
    assert rows[1]["window"].target == done_on + dt.timedelta(days=35)


def test_active_plan_modality_is_locked(clinician):
    plan = plan_in_state("active", clinician)
    with pytest.raises(ValidationError, match="cannot change"):
        services.plan_update(plan=plan, by=clinician, modality="nafl")


def test_relative_finding_reaches_the_plan_page_and_blocks_activation_until_overridden(clinician, clinician_client):
    patient = PatientFactory(anticoagulants=True)
    plan = ready_plan(clinician, patient=patient)
    page = clinician_client.get(f"/plans/{plan.pk}/").text
    assert rules.MSG_ANTICOAGULANTS in page and "Override with reason" in page

    with pytest.raises(ValidationError) as error:
        services.plan_activate(plan=plan, by=clinician)
    assert rules.BLOCK_NEEDS_OVERRIDE.format(message=rules.MSG_ANTICOAGULANTS) in error.value.messages
    plan.refresh_from_db()
    assert plan.state == "draft"

    services.finding_override_record(plan=plan, code=rules.CODE_ANTICOAGULANTS, reason="Bruising discussed; documented.", by=clinician)
    services.plan_activate(plan=plan, by=clinician)
    plan.refresh_from_db()
    assert plan.state == "active" and plan.approved_by == clinician and plan.activated_at
    [snapshot] = [f for f in plan.activation_findings if f["code"] == rules.CODE_ANTICOAGULANTS]
    assert snapshot["override_reason"] == "Bruising discussed; documented." and snapshot["kind"] == "relative"


def test_absolute_finding_cannot_be_overridden_and_blocks_activation(clinician, clinician_client):
    plan = ready_plan(clinician, patient=PatientFactory(is_pregnant=True))
    assert rules.MSG_PREGNANCY_EBD in clinician_client.get(f"/plans/{plan.pk}/").text
    with pytest.raises(ValidationError, match="no finding needing an override"):
        services.finding_override_record(plan=plan, code=rules.CODE_PREGNANCY_EBD, reason="Patient insists.", by=clinician)
    with pytest.raises(ValidationError) as error:
        services.plan_activate(plan=plan, by=clinician)
    assert rules.BLOCK_ABSOLUTE.format(message=rules.MSG_PREGNANCY_EBD) in error.value.messages


def test_adjunct_finding_blocks_until_overridden(clinician):
    patient = PatientFactory(thrombosis_history=True)
    plan = ready_plan(clinician, patient=patient, adjuncts=[{"agent": "txa_oral", "strength": "250 mg"}])
    codes = {f.code for f in selectors.plan_findings(plan)}
    assert rules.CODE_TXA_THROMBOSIS in codes
    with pytest.raises(ValidationError):
        services.plan_activate(plan=plan, by=clinician)


def test_rf_finding_depends_on_the_modality(clinician):
    patient = PatientFactory(pacemaker_or_implant=True)
    microneedling = make_plan(clinician, patient=patient)
    rf = make_plan(clinician, patient=patient, modality="rf_microneedling", device_settings={})
    assert rules.CODE_IMPLANTED_ELECTRONICS_RF not in {f.code for f in selectors.plan_findings(microneedling)}
    assert rules.CODE_IMPLANTED_ELECTRONICS_RF in {f.code for f in selectors.plan_findings(rf)}


@pytest.mark.parametrize("days_ago, stale", [(30, False), (31, True)])
def test_stale_screening_blocks_activation(clinician, days_ago, stale):
    patient = PatientFactory(screening_confirmed_at=timezone.now() - dt.timedelta(days=days_ago))
    plan = ready_plan(clinician, patient=patient)
    blockers = selectors.activation_state(selectors.plan_for_page(plan.pk))["blockers"]
    assert (rules.BLOCK_SCREENING_STALE in blockers) is stale


def test_missing_consent_blocks_activation(clinician):
    plan = make_plan(clinician)
    blockers = selectors.activation_state(selectors.plan_for_page(plan.pk))["blockers"]
    assert rules.BLOCK_CONSENT_MODALITY in blockers and rules.BLOCK_CONSENT_EXOSOME in blockers


def test_override_needs_a_reason(clinician):
    plan = make_plan(clinician, patient=PatientFactory(keloid_tendency=True))
    with pytest.raises(ValidationError, match=services.ERR_OVERRIDE_REASON):
        services.finding_override_record(plan=plan, code=rules.CODE_KELOID, reason="   ", by=clinician)
    assert not FindingOverride.objects.exists()


def test_consent_status_and_bulk_completeness(clinician, django_assert_num_queries):
    complete = ready_plan(clinician)
    half = make_plan(clinician)
    ConsentFactory(plan=half, text=consent_texts()[ConsentKind.EXOSOME], clinician=clinician)
    other_modality = make_plan(clinician, modality="nafl", device_settings={})
    ConsentFactory(plan=other_modality, text=consent_texts()["microneedling"], clinician=clinician)
    ConsentFactory(plan=other_modality, text=consent_texts()["exosome"], clinician=clinician)

    status = selectors.consent_status(half)
    assert (status["modality"], status["exosome"], status["complete"]) == (False, True, False)
    assert selectors.consent_status(complete)["complete"] is True
    with django_assert_num_queries(1):
        done = selectors.plans_consent_complete([complete.pk, half.pk, other_modality.pk])
    assert done == {complete.pk}  # a microneedling consent does not cover a laser plan


def test_consent_record_rules(clinician):
    plan = make_plan(clinician)
    texts = consent_texts()
    kwargs = dict(plan=plan, patient_printed_name="Ann Lee", signature="Ann Lee", witness_name="Nurse Kay",
                  signed_at=timezone.now(), by=clinician)
    with pytest.raises(ValidationError, match=services.ERR_CONSENT_CONFIRM):
        services.consent_record(text=texts["microneedling"], patient_confirms=False, **kwargs)
    with pytest.raises(ValidationError, match=services.ERR_CONSENT_KIND):
        services.consent_record(text=texts["nafl"], patient_confirms=True, **kwargs)
    newer = services.consent_text_publish(kind="microneedling", title="Consent v2", body="Updated text.", by=clinician)
    with pytest.raises(ValidationError, match=services.ERR_CONSENT_OLD_VERSION):
        services.consent_record(text=texts["microneedling"], patient_confirms=True, **kwargs)
    consent = services.consent_record(text=newer, patient_confirms=True, **kwargs)
    assert consent.clinician == clinician and consent.text.version == 2
    assert plan.consents.count() == 1


def test_publishing_a_consent_text_adds_a_version_and_keeps_the_old_one(manager):
    v1 = ConsentText.objects.get(kind="exosome", version=1)  # shipped by the data migration
    v2 = services.consent_text_publish(kind="exosome", title=v1.title, body=v1.body + "\n\nNew paragraph.", by=manager)
    assert v2.version == 2
    v1.refresh_from_db()
    assert "New paragraph" not in v1.body
    with pytest.raises(PermissionError):
        v1.save()


def test_shipped_consent_texts_and_templates():
    texts = {t.kind: t for t in ConsentText.objects.filter(version=1)}
    assert set(texts) == set(ConsentKind.values)
    assert "No exosome product is approved" in texts["exosome"].body and "(FDA)" in texts["exosome"].body
    for kind in ("microneedling", "nafl", "rf_microneedling"):
        assert "Alternatives" in texts[kind].body and "Risks" in texts[kind].body
    templates = {t.modality: t for t in ProtocolTemplate.objects.all()}
    assert set(templates) == set(rules.MODALITIES)
    for template in templates.values():
        assert (template.sessions, template.interval_days, template.window_before_days, template.window_after_days) == (4, 28, 3, 7)
        assert template.followup_months == [1, 3, 6]
        assert (template.spf, template.broad_spectrum, template.tinted_iron_oxide) == (50, True, True)
        assert rules.check_device_settings(template.modality, template.device_settings).ok
        assert not rules.check_device_settings(template.modality, template.device_settings).warnings
        for adjunct in template.adjuncts:
            assert adjunct["pause_days_before"] == rules.DEFAULT_PAUSE_DAYS.get(adjunct["agent"], 0)


def test_timeline_statuses(clinician):
    start = timezone.localdate() - dt.timedelta(days=40)
    plan = make_plan(clinician, sessions=4, start=start)
    s1, s2, s3, _s4 = TreatmentSession.objects.filter(plan=plan).order_by("number")
    TreatmentSession.objects.filter(pk=s1.pk).update(status=SessionStatus.COMPLETED, performed_at=timezone.now() - dt.timedelta(days=40))
    TreatmentSession.objects.filter(pk=s2.pk).update(status=SessionStatus.MISSED)
    booked = timezone.now() + dt.timedelta(days=3)
    AppointmentFactory(patient=plan.patient, plan=plan, session=s3, start=booked, end=booked + dt.timedelta(hours=1))
    AppointmentFactory(patient=plan.patient, plan=plan, session=_s4, status="cancelled")
    rows = selectors.plan_timeline(selectors.plan_for_page(plan.pk))["rows"]
    assert [r["status"] for r in rows] == ["done", "missed", "scheduled", "planned"]
    assert rows[3]["window"].target == timezone.localdate(booked) + dt.timedelta(days=28)  # follows the booking


def test_stop_needs_a_reason_and_completing_sets_the_end(clinician):
    plan = plan_in_state("active", clinician)
    with pytest.raises(ValidationError, match=services.ERR_STOP_REASON):
        services.plan_stop(plan=plan, reason=" ", by=clinician)
    services.plan_complete(plan=plan, by=clinician)
    plan.refresh_from_db()
    assert plan.state == "completed" and plan.ended_at


def test_draft_can_be_discarded_with_a_reason(clinician):
    plan = make_plan(clinician)
    services.plan_stop(plan=plan, reason="Patient chose creams only.", by=clinician)
    plan.refresh_from_db()
    assert plan.state == "stopped" and plan.stop_reason == "Patient chose creams only."


def test_only_a_clinician_approves(clinician, manager):
    plan = ready_plan(clinician)
    with pytest.raises(ValidationError, match=services.ERR_NOT_APPROVER):
        services.plan_activate(plan=plan, by=manager)


def test_consent_for_the_plan_modality_counts(clinician):
    plan = make_plan(clinician)
    consent_plan(plan, clinician)
    assert selectors.consent_status(selectors.plan_for_page(plan.pk))["complete"]
