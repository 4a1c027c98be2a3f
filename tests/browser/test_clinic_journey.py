"""The whole course of care across roles, in one real Chromium, from sign-in to the last click (issue 7):

1. a clinician builds and activates a course (screening finding overridden, consent recorded);
2. the front desk books the whole course and checks the patient in;
3. the clinician runs the pre-session check, records the session with its lot, an mMASI and an adverse event;
4. the desk prints the aftercare sheet and downloads its PDF, whose text is read back with pdftotext.

Screenshots of every step: artifacts/screenshots/journey-*.png."""

import subprocess

import pytest
from django.utils import timezone

from plans.models import AdverseEvent, Appointment, AppointmentLength, AppointmentStatus, Plan, TreatmentSession
from tests.browser.conftest import login, shot
from tests.factories import ExosomeProductFactory, LotFactory, PatientFactory, ProtocolTemplateFactory, UserFactory
from tests.plans.course_helpers import consent_texts
from tests.plans.scheduling_support import clinic
from tests.plans.test_aftercare_content import ship_texts
from tests.clock import clinic_time

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def switch_user(page, username):
    page.context.clear_cookies()
    login(page, username)


def test_course_of_care_across_roles(page, time_machine, tmp_path):
    # Today at 10:00 in the clinic, ticking on (the live server shares the moved clock), so the first session
    # still fits today and can be checked in whatever the hour the suite runs at.
    time_machine.move_to(clinic_time(timezone.localdate().isoformat(), "10:00"))
    clinician = UserFactory(username="clinician", role="clinician", password="demo-clinic",
                            first_name="Amelia", last_name="Hart")
    UserFactory(username="frontdesk", role="front_desk", password="demo-clinic", first_name="Sam", last_name="Okafor")
    clinic(clinician, weekdays=range(7), start="00:00", end="23:59")
    AppointmentLength.objects.filter(kind="microneedling").update(minutes=15)
    consent_texts()
    ship_texts()
    product = ExosomeProductFactory(name="ExoRenew MSC-A")
    lot = LotFactory(product=product, number="EXO-2026-07B")
    ProtocolTemplateFactory(
        name="Microneedling + exosomes (melasma)", modality="microneedling", device_name="Microneedling pen",
        device_settings={"needle_depth_mm": 0.5, "passes": 3, "endpoint": "erythema"},
        adjuncts=[{"agent": "tretinoin", "strength": "0.05%", "frequency": "nightly", "pause_days_before": 7}],
        exosome_product=product,
    )
    patient = PatientFactory(first_name="Yasmin", last_name="Farouk", fitzpatrick_type=3, anticoagulants=True,
                             email="yasmin.farouk@example.com", email_consent=True)

    # 1. The clinician builds the course, overrides the relative finding, records consent, activates.
    login(page, "clinician")
    page.goto(patient.get_absolute_url())
    shot(page, "journey-01-patient")
    page.get_by_role("link", name="New course plan").click()
    page.get_by_label("Start from template").select_option(label="Microneedling + exosomes (melasma)")
    page.get_by_role("button", name="Use template").click()
    page.get_by_text("Prefilled from").wait_for()
    page.locator("#id_start_date").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Preview timeline").click()
    page.locator("#timeline-preview").get_by_text("Follow-up visits").wait_for()
    shot(page, "journey-02-builder-preview")
    page.get_by_role("button", name="Save draft plan").click()
    page.get_by_role("heading", name="Microneedling course").wait_for()
    plan = Plan.objects.get(patient=patient)
    page.get_by_label("Reason to proceed despite this finding").fill("Apixaban continues (S33); bruising explained.")
    page.get_by_role("button", name="Override with reason").click()
    page.locator("#findings").get_by_text("overridden").wait_for()
    for link in ("Record microneedling consent", "Record exosome consent"):
        page.get_by_role("link", name=link).click()
        page.get_by_label("Patient's signature (typed)").fill("Yasmin Farouk")
        page.get_by_label("Witness name").fill("Nurse Grace Palmer")
        page.get_by_label("The patient confirms", exact=False).check()
        page.get_by_role("button", name="Record consent").click()
        page.get_by_text("Consent recorded.").wait_for()
    page.get_by_role("button", name="Approve and activate").click()
    page.get_by_text("Plan activated.").wait_for()
    shot(page, "journey-03-plan-active")
    plan.refresh_from_db()
    assert plan.state == "active"

    # 2. The front desk books the whole course and checks the patient in.
    switch_user(page, "frontdesk")
    page.goto(patient.get_absolute_url())
    page.get_by_role("link", name="Book whole course (Microneedling)").click()
    page.get_by_role("heading", name="Book the course for Yasmin Farouk").wait_for()
    shot(page, "journey-04-proposed-slots")
    page.get_by_role("button", name="Confirm bookings").click()
    page.get_by_text("Booked 7 appointments for Yasmin Farouk").wait_for()  # 4 sessions + 3 follow-ups
    page.get_by_role("link", name="Schedule", exact=True).click()
    page.get_by_role("button", name="Check in Yasmin Farouk").click()
    page.get_by_text("Yasmin Farouk is checked in.").wait_for()
    shot(page, "journey-05-checked-in")
    first = Appointment.objects.get(session__plan=plan, session__number=1)
    assert first.status == AppointmentStatus.CHECKED_IN

    # 3. The clinician checks, records the session with its lot, an mMASI and an adverse event.
    switch_user(page, "clinician")
    session = TreatmentSession.objects.get(plan=plan, number=1)
    page.goto(session.get_absolute_url())
    page.get_by_role("link", name="Pre-session check").click()
    page.get_by_label("Topical pauses were kept").check()
    page.get_by_role("button", name="Run pre-session check").click()
    page.get_by_role("heading", name="Record session 1").wait_for()
    page.get_by_label("Exosome product and lot").select_option(
        label=f"ExoRenew MSC-A · lot EXO-2026-07B · expires {lot.expiry_date:%Y-%m-%d}")
    page.get_by_label("Volume (mL)").fill("1.5")
    page.get_by_label("Treated zones").fill("Full face")
    shot(page, "journey-06-record-session")
    page.get_by_role("button", name="Record session").click()
    page.get_by_text("Session recorded.").wait_for()
    page.get_by_role("link", name="Add assessment").click()
    for region, (area, dark, homog) in {"Forehead": (2, 2, 1), "Right malar": (3, 3, 2), "Left malar": (3, 2, 2),
                                        "Chin": (0, 0, 0)}.items():
        page.get_by_label(f"{region} area (0–6)").fill(str(area))
        page.get_by_label(f"{region} darkness (0–4)").fill(str(dark))
        page.get_by_label(f"{region} homogeneity (0–4)").fill(str(homog))
    page.get_by_role("button", name="Save assessment").click()
    # 0.3·2·2 + 0.3·3·3 + 0.3·3·2 + 0.1·0·0 = 1.2 + 2.7 + 1.8 = 5.7
    page.get_by_text("mMASI 5.7").first.wait_for()
    page.get_by_role("link", name="Record adverse event").click()
    page.get_by_label("Type").select_option("erythema")
    page.get_by_label("CTCAE grade").select_option("1")
    page.get_by_label("Description").fill("Redness across both cheeks, settling by evening.")
    page.get_by_role("button", name="Record adverse event").click()
    page.get_by_text("Not reviewed: holds the next session").wait_for()
    shot(page, "journey-07-adverse-event")
    assert AdverseEvent.objects.get().lot == lot
    assert Appointment.objects.get(pk=first.pk).status == AppointmentStatus.COMPLETED

    # 4. The desk prints the aftercare sheet and downloads its PDF.
    switch_user(page, "frontdesk")
    page.goto(session.get_absolute_url())
    page.get_by_role("link", name="Aftercare sheet", exact=False).first.click()
    page.get_by_text("Yasmin Farouk").first.wait_for()
    printed = page.content()
    assert "Tretinoin" in printed and "ExoRenew MSC-A" in printed and "EXO-2026-07B" in printed
    assert "tranexamic" not in printed.lower()  # not prescribed: no TXA warnings
    shot(page, "journey-08-aftercare-print-view")
    page.emulate_media(media="print")
    shot(page, "journey-09-aftercare-as-printed")
    page.emulate_media(media="screen")
    page.goto(session.get_absolute_url())
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF", exact=False).first.click()
    pdf_path = tmp_path / "aftercare.pdf"
    download_info.value.save_as(pdf_path)
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    second = Appointment.objects.get(session__plan=plan, session__number=2)
    assert "Yasmin Farouk" in text and "microneedling" in text.lower()
    assert f"{timezone.localtime(second.start):%-d %B %Y}" in text or f"{timezone.localtime(second.start):%d %B %Y}" in text
