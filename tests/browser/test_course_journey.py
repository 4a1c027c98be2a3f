"""A clinician builds a course from a template, overrides a relative finding, records consent and activates it
(issue 3), in a real Chromium."""

import pytest

from plans import rules
from plans.models import Consent, FindingOverride, Plan
from tests.browser.conftest import login, shot
from tests.factories import ExosomeProductFactory, PatientFactory, ProtocolTemplateFactory, UserFactory
from tests.plans.course_helpers import consent_texts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_builds_consents_and_activates_a_plan(page):
    clinician = UserFactory(username="clinician", role="clinician", password="demo-clinic", first_name="Amelia", last_name="Hart")
    patient = PatientFactory(first_name="Nadia", last_name="Karim", fitzpatrick_type=3, anticoagulants=True)
    consent_texts()
    ProtocolTemplateFactory(
        name="Microneedling + exosomes (melasma)", modality="microneedling", device_name="Microneedling pen",
        device_settings={"needle_depth_mm": 0.5, "passes": 3, "endpoint": "erythema"},
        adjuncts=[{"agent": "hydroquinone", "strength": "4%", "frequency": "nightly", "pause_days_before": 7}],
        exosome_product=ExosomeProductFactory(name="ExoRenew MSC-A"),
    )

    login(page, "clinician")
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="New course plan").click()
    page.get_by_label("Start from template").select_option(label="Microneedling + exosomes (melasma)")
    page.get_by_role("button", name="Use template").click()
    page.get_by_text("Prefilled from").wait_for()
    assert page.get_by_label("Needle depth (mm)").input_value() == "0.5"
    shot(page, "course-01-builder-from-template")

    # "Add adjunct" adds a row in place: the page is not reloaded (the marker on window survives).
    rows = page.locator("#adjuncts-rows .adjunct-row")
    assert rows.count() == 1
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="Add adjunct").click()
    assert rows.count() == 2 and page.evaluate("window.__noReload") is True
    page.locator("#id_adjuncts-1-agent").select_option("niacinamide")
    page.locator("#id_adjuncts-1-strength").fill("4%")
    page.locator("#id_adjuncts-1-pause_days_before").fill("0")
    shot(page, "course-02-adjunct-row-added")

    page.get_by_role("button", name="Preview timeline").click()
    preview = page.locator("#timeline-preview")
    preview.get_by_text("Follow-up visits").wait_for()
    assert preview.locator("tbody tr").count() == 4
    assert rules.MSG_ANTICOAGULANTS in preview.inner_text()
    assert rows.count() == 2  # the added row survives the preview
    shot(page, "course-03-timeline-preview")

    page.get_by_role("button", name="Save draft plan").click()
    page.get_by_role("heading", name="Microneedling course").wait_for()
    plan = Plan.objects.get(patient=patient)
    assert plan.adjuncts.count() == 2 and plan.sessions.count() == 4
    findings = page.locator("#findings")
    assert rules.MSG_ANTICOAGULANTS in findings.inner_text()
    assert page.get_by_role("button", name="Approve and activate").is_disabled()
    shot(page, "course-04-draft-with-relative-finding")

    page.get_by_label("Reason to proceed despite this finding").fill("Apixaban for AF: not stopped (S33). Bruising risk explained.")
    page.get_by_role("button", name="Override with reason").click()
    findings.get_by_text("overridden").wait_for()
    assert FindingOverride.objects.get(plan=plan).by == clinician
    shot(page, "course-05-finding-overridden")

    for link, kind in (("Record microneedling consent", "microneedling"), ("Record exosome consent", "exosome")):
        page.get_by_role("link", name=link).click()
        page.get_by_role("heading", name="Record the patient's consent").wait_for()
        page.get_by_label("Patient's signature (typed)").fill("Nadia Karim")
        page.get_by_label("Witness name").fill("Nurse Grace Palmer")
        page.get_by_label("The patient confirms", exact=False).check()
        shot(page, f"course-06-consent-{kind}")
        page.get_by_role("button", name="Record consent").click()
        page.get_by_text("Consent recorded.").wait_for()
    assert Consent.objects.filter(plan=plan).count() == 2
    shot(page, "course-07-ready-to-activate")

    page.get_by_role("button", name="Approve and activate").click()
    page.get_by_text("Plan activated.").wait_for()
    plan.refresh_from_db()
    assert plan.state == "active" and plan.approved_by == clinician
    assert page.locator(".plan-state").inner_text() == "Active"
    shot(page, "course-08-plan-active")

    page.get_by_role("link", name="Printable course summary").click()
    page.get_by_role("heading", name="Your melasma treatment course").wait_for()
    assert page.locator("nav.navbar").count() == 0
    shot(page, "course-09-printable-summary")
