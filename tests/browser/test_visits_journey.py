"""A clinician runs the pre-session check, records a session with its exosome lot, scores mMASI, then records an
adverse event and reviews it (issue 4)."""

import datetime as dt

import pytest
from django.utils import timezone

from plans.models import AdverseEvent, Assessment, SessionStatus, TreatmentSession
from tests.browser.conftest import login, shot
from tests.factories import AssessmentFactory, LotFactory, PatientFactory, PlanFactory, TreatmentSessionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_records_session_lot_mmasi_and_adverse_event(page):
    clinician = UserFactory(username="clinician", role="clinician", password="demo-clinic", first_name="Amelia", last_name="Hart")
    lot = LotFactory(number="EXO-2026-01A", expiry_date=timezone.localdate() + dt.timedelta(days=200))
    LotFactory(product=lot.product, number="EXO-2025-OLD", expiry_date=timezone.localdate() - dt.timedelta(days=3))
    patient = PatientFactory(first_name="Nadia", last_name="Rahman", fitzpatrick_type=4)
    plan = PlanFactory(
        patient=patient, state="active", modality="microneedling", exosome_product=lot.product, created_by=clinician,
        start_date=dt.date.today(),  # session 1 due today, inside its window (issue 12: outside needs a reason)
        device_settings={"zone_depths_mm": {"forehead": 0.3, "malar": 0.5, "chin": 0.3}, "passes": 3},
    )
    session = TreatmentSessionFactory(plan=plan, number=1)
    TreatmentSessionFactory(plan=plan, number=2)
    AssessmentFactory(plan=plan, patient=patient, rater=clinician, taken_on=timezone.localdate() - dt.timedelta(days=14))

    login(page, "clinician")
    page.goto(f"/sessions/{session.pk}/")
    page.get_by_role("heading", name="Session 1 of 4").wait_for()
    shot(page, "visits-01-session-page")

    # Pre-session check: everything fine today.
    page.get_by_role("link", name="Pre-session check").click()
    page.get_by_label("Topical pauses were kept").check()
    shot(page, "visits-02-pre-session-check")
    page.get_by_role("button", name="Run pre-session check").click()
    page.get_by_role("heading", name="Record session 1").wait_for()

    # The form is prefilled from the plan; pick the expired lot first to see it refused.
    assert page.get_by_label("Needle depth, malar (mm)").input_value() == "0.5"
    page.get_by_label("Exosome product and lot").select_option(label=f"{lot.product.name} · lot EXO-2025-OLD · expires "
                                                               f"{(timezone.localdate() - dt.timedelta(days=3)):%Y-%m-%d} · expired")
    page.get_by_label("Volume (mL)").fill("1.5")
    page.get_by_label("Needle depth, malar (mm)").fill("2")
    page.get_by_role("button", name="Record session").click()
    page.get_by_text("expired on").wait_for()
    page.get_by_text("Deeper than the deepest published melasma protocol").first.wait_for()
    shot(page, "visits-03-record-refused-expired-lot-and-deep-needling")

    page.get_by_label("Exosome product and lot").select_option(label=f"{lot.product.name} · lot EXO-2026-01A · expires "
                                                               f"{lot.expiry_date:%Y-%m-%d}")
    page.get_by_label("Needle depth, malar (mm)").fill("0.5")
    page.get_by_label("Treated zones").fill("Full face")
    page.get_by_role("button", name="Record session").click()
    page.get_by_text("Session recorded.").wait_for()
    page.get_by_role("link", name=f"{lot.product.name} lot EXO-2026-01A").wait_for()
    shot(page, "visits-04-session-recorded")
    recorded = TreatmentSession.objects.get(pk=session.pk)
    assert recorded.status == SessionStatus.COMPLETED and recorded.exosome_lot == lot

    # mMASI before the next session (scores computed on save).
    page.get_by_role("link", name="Add assessment").click()
    for region, (area, dark, homog) in {
        "Forehead": (2, 2, 1), "Right malar": (3, 2, 2), "Left malar": (3, 2, 2), "Chin": (1, 1, 1),
    }.items():
        page.get_by_label(f"{region} area (0–6)").fill(str(area))
        page.get_by_label(f"{region} darkness (0–4)").fill(str(dark))
        page.get_by_label(f"{region} homogeneity (0–4)").fill(str(homog))
    shot(page, "visits-05-assessment-form")
    page.get_by_role("button", name="Save assessment").click()
    # 0.3·2·2 + 0.3·3·2 + 0.3·3·2 + 0.1·1·1 = 1.2 + 1.8 + 1.8 + 0.1 = 4.9
    page.get_by_text("mMASI 4.9").first.wait_for()
    assert str(Assessment.objects.get(session=session).mmasi) == "4.9"

    # An adverse event after the session: the lot comes from the session.
    page.get_by_role("link", name="Record adverse event").click()
    page.get_by_label("Type").select_option("pih")
    page.get_by_label("CTCAE grade").select_option("2")
    page.get_by_label("Description").fill("Darker patches on the right malar area two weeks after the session.")
    page.get_by_label("Action taken").fill("Energy device paused; hydroquinone 4% nightly; tinted SPF 50.")
    shot(page, "visits-06-adverse-event-form")
    page.get_by_role("button", name="Record adverse event").click()
    page.get_by_role("heading", name="Post-inflammatory hyperpigmentation · grade 2").wait_for()
    page.get_by_text("Not reviewed: holds the next session").wait_for()
    shot(page, "visits-07-adverse-event-recorded")
    event = AdverseEvent.objects.get()
    assert event.lot == lot and event.session == recorded

    # It is listed (open first) and on the dashboard; reviewing it releases the hold.
    page.get_by_role("link", name="Adverse events", exact=True).first.click()
    page.get_by_role("link", name="Rahman, Nadia").wait_for()
    shot(page, "visits-08-adverse-event-list")
    page.goto(f"/adverse-events/{event.pk}/")
    page.get_by_role("button", name="Mark reviewed").click()
    page.get_by_text("Reviewed: the next session is no longer held").wait_for()
    shot(page, "visits-09-adverse-event-reviewed")
    event.refresh_from_db()
    assert event.reviewed_by == clinician

    # The plan page shows the trend: baseline mMASI 9.1 → 4.9 is −46.2 %.
    page.goto(f"/plans/{plan.pk}/")
    page.get_by_role("heading", name="Severity trend").wait_for()
    page.get_by_role("cell", name="-46.2%").wait_for()
    shot(page, "visits-10-plan-page-trend")
