"""Course pages through HTTP: permission ladder, lifecycle table, builder, consent, bad input, query counts."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from plans import rules
from plans.forms import course as course_forms
from plans.models import Consent, ConsentText, FindingOverride, Plan, ProtocolTemplate, TreatmentSession
from plans.services import course as services
from tests.factories import ConsentFactory, PatientFactory, ProtocolTemplateFactory, TreatmentSessionFactory
from tests.plans.course_helpers import builder_data, consent_texts, make_plan, plan_in_state, ready_plan

pytestmark = pytest.mark.django_db

ROLES = ["clinician", "front_desk", "manager"]


@pytest.fixture
def world(clinician):
    patient = PatientFactory(keloid_tendency=True)
    plan = make_plan(clinician, patient=patient)
    consent = ConsentFactory(
        plan=plan, text=consent_texts()["exosome"], clinician=clinician,
        scanned_form=SimpleUploadedFile("form.pdf", b"%PDF-1.4 signed form\n%%EOF\n", content_type="application/pdf"),
    )
    template = ProtocolTemplate.objects.first()
    return {"patient": patient, "plan": plan, "consent": consent, "template": template}


# (method, url, roles allowed, status for an allowed role)
LADDER = [
    ("get", "/patients/{patient}/plans/new/", {"clinician"}, 200),
    ("post", "/patients/{patient}/plans/new/", {"clinician"}, 200),  # empty POST: form errors, not a 500
    ("get", "/plans/{plan}/", {"clinician", "front_desk", "manager"}, 200),
    ("get", "/plans/{plan}/summary/", {"clinician", "front_desk", "manager"}, 200),
    ("get", "/plans/{plan}/edit/", {"clinician"}, 200),
    ("post", "/plans/{plan}/overrides/", {"clinician"}, 302),
    ("get", "/plans/{plan}/consent/microneedling/", {"clinician"}, 200),
    ("get", "/plans/{plan}/consent/exosome/", {"clinician"}, 200),
    ("post", "/plans/{plan}/activate/", {"clinician"}, 302),
    ("get", "/plans/{plan}/stop/", {"clinician"}, 200),
    ("post", "/plans/{plan}/stop/", {"clinician"}, 200),  # no reason: form error
    ("post", "/plans/{plan}/complete/", {"clinician"}, 302),
    ("get", "/consents/{consent}/scan/", {"clinician", "manager"}, 200),
    ("get", "/templates/", {"clinician", "manager"}, 200),
    ("get", "/templates/new/", {"manager"}, 200),
    ("get", "/templates/{template}/", {"manager"}, 200),
    ("get", "/consent-texts/", {"clinician", "manager"}, 200),
    ("get", "/consent-texts/new/", {"manager"}, 200),
]


@pytest.mark.parametrize("method, url, allowed, ok_status", LADDER, ids=[f"{m} {u}" for m, u, _a, _s in LADDER])
def test_permission_ladder(role_clients, world, method, url, allowed, ok_status):
    url = url.format(**{key: obj.pk for key, obj in world.items()})
    response = getattr(role_clients["anonymous"], method)(url)
    assert response.status_code == 302 and response.url.startswith("/login/")
    for role in ROLES:
        response = getattr(role_clients[role], method)(url)
        expected = ok_status if role in allowed else 403
        assert response.status_code == expected, (role, response.status_code)


@pytest.mark.parametrize("url", ["/plans/{plan}/activate/", "/plans/{plan}/complete/", "/plans/{plan}/overrides/"])
def test_state_changing_urls_refuse_get(clinician_client, world, url):
    assert clinician_client.get(url.format(plan=world["plan"].pk)).status_code == 405


def test_front_desk_reads_the_timeline_without_write_buttons(front_desk_client, world):
    page = front_desk_client.get(f"/plans/{world['plan'].pk}/").text
    assert "Course timeline" in page
    for button in ("Approve and activate", "Edit plan", "Discard draft", "Override with reason", "Record exosome consent"):
        assert button not in page
    assert rules.MSG_KELOID not in page  # screening answers are clinical history


# --- Lifecycle: (from, to, role, allowed) through the views ------------------------------------------------------

ACTIONS = {"active": "activate", "completed": "complete", "stopped": "stop"}
LIFECYCLE = [
    (from_state, to_state, "clinician", rules.can_transition(from_state, to_state))
    for from_state in rules.PLAN_TRANSITIONS
    for to_state in ACTIONS
] + [
    (from_state, to_state, role, False)
    for role in ("front_desk", "manager")
    for from_state, to_state in [("draft", "active"), ("active", "completed"), ("active", "stopped"), ("draft", "stopped")]
]


@pytest.mark.parametrize("from_state, to_state, role, allowed", LIFECYCLE)
def test_lifecycle_transitions_through_the_views(role_clients, clinician, from_state, to_state, role, allowed):
    plan = plan_in_state(from_state, clinician)
    response = role_clients[role].post(f"/plans/{plan.pk}/{ACTIONS[to_state]}/", {"reason": "Patient request."})
    plan.refresh_from_db()
    if role != "clinician":
        assert response.status_code == 403
    elif allowed:
        assert response.status_code == 302
    else:  # refused: the plan page with a message, or the stop form with the error
        assert response.status_code in (200, 302)
    assert plan.state == (to_state if allowed else from_state)
    if allowed and to_state in ("completed", "stopped"):
        assert plan.ended_at is not None
    if allowed and to_state == "stopped":
        assert plan.stop_reason == "Patient request."


def test_activation_refused_with_blockers_shows_them(clinician_client, clinician):
    plan = make_plan(clinician, patient=PatientFactory(anticoagulants=True))
    response = clinician_client.post(f"/plans/{plan.pk}/activate/", follow=True)
    plan.refresh_from_db()
    assert plan.state == "draft"
    assert rules.BLOCK_CONSENT_MODALITY in response.text
    assert rules.BLOCK_NEEDS_OVERRIDE.format(message=rules.MSG_ANTICOAGULANTS) in response.text


def test_stale_screening_links_to_confirmation(clinician_client, clinician):
    patient = PatientFactory(screening_confirmed_at=timezone.now() - dt.timedelta(days=90))
    plan = ready_plan(clinician, patient=patient)
    page = clinician_client.get(f"/plans/{plan.pk}/").text
    assert rules.BLOCK_SCREENING_STALE in page
    assert f"/patients/{patient.pk}/" in page and "Confirm screening still true today" in page


# --- Builder ----------------------------------------------------------------------------------------------------


def test_builder_prefills_from_a_template_with_conservative_settings_for_dark_skin(clinician_client):
    patient = PatientFactory(fitzpatrick_type=5)
    template = ProtocolTemplate.objects.get(modality="nafl")
    response = clinician_client.get(f"/patients/{patient.pk}/plans/new/?template={template.pk}")
    form = response.context["form"]
    assert form.initial["energy_mj"] == 10 and form.initial["density_percent"] == 10 and form.initial["passes"] == 4
    assert form.initial["modality"] == "nafl" and form.initial["sessions_planned"] == 4
    assert len(response.context["formset"].forms) == len(template.adjuncts)
    # The timeline preview is on the page before anything is saved.
    preview = response.context["preview"]["timeline"]
    assert len(preview["rows"]) == 4 and len(preview["followups"]) == 3
    assert "Timeline preview" in response.text and "adjuncts-empty-form" in response.text


def test_builder_preview_does_not_save(clinician_client):
    patient = PatientFactory()
    data = builder_data(save=None, preview="1", sessions_planned="3")
    response = clinician_client.post(f"/patients/{patient.pk}/plans/new/", data)
    assert response.status_code == 200 and not Plan.objects.exists()
    rows = response.context["preview"]["timeline"]["rows"]
    start = dt.date.fromisoformat(data["start_date"])
    assert [r["window"].target for r in rows] == [start + dt.timedelta(days=28 * n) for n in range(3)]
    assert rows[0]["window"].earliest == start - dt.timedelta(days=3)


def test_builder_saves_the_plan_sessions_and_adjuncts(clinician_client, clinician):
    patient = PatientFactory(fitzpatrick_type=2)
    data = builder_data(**{
        "adjuncts-TOTAL_FORMS": "2", "adjuncts-1-agent": "niacinamide", "adjuncts-1-strength": "4%",
        "adjuncts-1-pause_days_before": "0",
    })
    response = clinician_client.post(f"/patients/{patient.pk}/plans/new/", data)
    plan = Plan.objects.get()
    assert response.status_code == 302 and response.url == f"/plans/{plan.pk}/"
    assert plan.created_by == clinician and plan.state == "draft"
    assert plan.device_settings == {"needle_depth_mm": 0.2, "passes": 3, "endpoint": "erythema"}
    assert plan.followup_months == [1, 3, 6]
    assert TreatmentSession.objects.filter(plan=plan).count() == 4
    assert sorted(plan.adjuncts.values_list("agent", "pause_days_before")) == [("hydroquinone", 7), ("niacinamide", 0)]


BAD_BUILDER_INPUT = [
    ({"sessions_planned": "0"}, "sessions_planned", None),
    ({"sessions_planned": "7"}, "sessions_planned", None),
    ({"needle_depth_mm": "5"}, "needle_depth_mm", rules.ERR_TOO_DEEP),
    ({"needle_depth_mm": "-1"}, "needle_depth_mm", rules.ERR_NOT_POSITIVE),
    ({"modality": "nafl", "wavelength_nm": "1064"}, "wavelength_nm", rules.ERR_WAVELENGTH),
    ({"modality": "nafl", "energy_mj": "150"}, "energy_mj", rules.ERR_ENERGY_TOO_HIGH),
    ({"needle_depth_mm": "2.0"}, "confirm_settings", course_forms.ERR_CONFIRM_WARNINGS),  # warning not confirmed
    ({"sessions_planned": "6"}, "confirm_settings", course_forms.ERR_CONFIRM_WARNINGS),
    ({"start_date": "2001-01-01"}, "start_date", course_forms.ERR_START_IN_PAST),
    ({"followup_months": "1, three"}, "followup_months", course_forms.ERR_FOLLOWUPS),
    ({"adjuncts-0-agent": "snake_oil"}, None, None),
]


@pytest.mark.parametrize("changes, field, message", BAD_BUILDER_INPUT)
def test_bad_builder_input_saves_nothing(clinician_client, changes, field, message):
    patient = PatientFactory()
    response = clinician_client.post(f"/patients/{patient.pk}/plans/new/", builder_data(**changes))
    assert response.status_code == 200
    assert not Plan.objects.exists() and not TreatmentSession.objects.exists()
    if field:
        assert field in response.context["form"].errors
    if message:
        assert message in response.context["form"].errors[field]


@pytest.mark.parametrize("changes", [{"needle_depth_mm": "2.0"}, {"sessions_planned": "6"}, {"interval_days": "70"}])
def test_confirmed_warnings_save(clinician_client, changes):
    patient = PatientFactory()
    response = clinician_client.post(f"/patients/{patient.pk}/plans/new/", builder_data(confirm_settings="on", **changes))
    assert response.status_code == 302 and Plan.objects.count() == 1


def test_editing_an_active_plan_keeps_performed_sessions(clinician_client, clinician):
    plan = plan_in_state("active", clinician)
    TreatmentSession.objects.filter(plan=plan, number=1).update(status="completed", performed_at=timezone.now(), notes="done")
    data = builder_data(sessions_planned="3", interval_days="30", start_date=plan.start_date.isoformat())
    response = clinician_client.post(f"/plans/{plan.pk}/edit/", data)
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.sessions_planned == 3 and plan.interval_days == 30 and plan.state == "active"
    assert list(plan.sessions.order_by("number").values_list("status", flat=True)) == ["completed", "planned", "planned", "cancelled"]
    assert plan.sessions.get(number=1).notes == "done"


def test_completed_plan_cannot_be_edited(clinician_client, clinician):
    plan = plan_in_state("completed", clinician)
    response = clinician_client.post(f"/plans/{plan.pk}/edit/", builder_data(sessions_planned="2"))
    plan.refresh_from_db()
    assert response.status_code == 302 and plan.sessions_planned == 4


# --- Overrides and consent ----------------------------------------------------------------------------------------


def test_override_through_the_page(clinician_client, clinician):
    plan = make_plan(clinician, patient=PatientFactory(keloid_tendency=True))
    url = f"/plans/{plan.pk}/overrides/"
    response = clinician_client.post(url, {"code": rules.CODE_KELOID, "reason": ""}, follow=True)
    assert services.ERR_OVERRIDE_REASON in response.text and not FindingOverride.objects.exists()
    clinician_client.post(url, {"code": rules.CODE_KELOID, "reason": "No keloids on the face; test spot fine."})
    override = FindingOverride.objects.get()
    assert override.by == clinician and override.plan == plan
    assert "No keloids on the face" in clinician_client.get(f"/plans/{plan.pk}/").text


def consent_post(**changes):
    data = {
        "patient_printed_name": "Ann Lee", "signature": "Ann Lee", "patient_confirms": "on", "witness_name": "Nurse Kay",
        "signed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_consent_page_shows_the_current_text_and_records_it(clinician_client, clinician):
    plan = make_plan(clinician)
    text = ConsentText.objects.get(kind="microneedling", version=1)
    page = clinician_client.get(f"/plans/{plan.pk}/consent/microneedling/")
    assert text.title in page.text and "version 1" in page.text
    response = clinician_client.post(f"/plans/{plan.pk}/consent/microneedling/", consent_post())
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.text, consent.clinician, consent.patient_confirms, consent.witness_name) == (text, clinician, True, "Nurse Kay")


BAD_CONSENT = [
    ({"patient_confirms": None}, "patient_confirms", services.ERR_CONSENT_CONFIRM),
    ({"witness_name": ""}, "witness_name", None),
    ({"signature": ""}, "signature", course_forms.ERR_SIGNATURE),
    ({"signed_at": (timezone.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")}, "signed_at", course_forms.ERR_SIGNED_FUTURE),
]


@pytest.mark.parametrize("changes, field, message", BAD_CONSENT)
def test_bad_consent_input_records_nothing(clinician_client, clinician, changes, field, message):
    plan = make_plan(clinician)
    response = clinician_client.post(f"/plans/{plan.pk}/consent/exosome/", consent_post(**changes))
    assert response.status_code == 200 and not Consent.objects.exists()
    assert field in response.context["form"].errors
    if message:
        assert message in response.context["form"].errors[field]


def test_scanned_form_is_checked_by_content(clinician_client, clinician):
    plan = make_plan(clinician)
    fake = SimpleUploadedFile("form.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = clinician_client.post(f"/plans/{plan.pk}/consent/exosome/", consent_post(scanned_form=fake))
    assert course_forms.ERR_SCAN_TYPE in response.context["form"].errors["scanned_form"] and not Consent.objects.exists()
    broken = SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, content_type="image/png")
    response = clinician_client.post(f"/plans/{plan.pk}/consent/exosome/", consent_post(scanned_form=broken))
    assert course_forms.ERR_SCAN_TYPE in response.context["form"].errors["scanned_form"] and not Consent.objects.exists()
    buffer = io.BytesIO()
    Image.new("L", (40, 60), 255).save(buffer, "PNG")
    png = SimpleUploadedFile("scan.bin", buffer.getvalue(), content_type="application/octet-stream")
    assert clinician_client.post(f"/plans/{plan.pk}/consent/exosome/", consent_post(scanned_form=png)).status_code == 302
    assert Consent.objects.get().scanned_form


def test_consent_for_another_modality_is_not_found(clinician_client, clinician):
    plan = make_plan(clinician)
    assert clinician_client.get(f"/plans/{plan.pk}/consent/nafl/").status_code == 404


# --- Manager pages ------------------------------------------------------------------------------------------------


def test_manager_edits_a_template_with_history(manager_client, manager):
    template = ProtocolTemplate.objects.get(modality="microneedling")
    data = {
        "name": template.name, "modality": "microneedling", "sessions": "3", "interval_days": "28",
        "window_before_days": "3", "window_after_days": "7", "device_name": "Pen", "needle_depth_mm": "0.3",
        "spf": "50", "broad_spectrum": "on", "tinted_iron_oxide": "on", "reapply_hours": "2", "is_active": "on",
        "followup_months": "1, 3", "adjuncts-TOTAL_FORMS": "1", "adjuncts-INITIAL_FORMS": "0",
        "adjuncts-0-agent": "azelaic_acid", "adjuncts-0-strength": "20%", "adjuncts-0-frequency": "twice daily",
    }
    response = manager_client.post(f"/templates/{template.pk}/", data)
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.sessions == 3 and template.followup_months == [1, 3]
    assert template.device_settings == {"needle_depth_mm": 0.3}
    assert template.adjuncts == [{"agent": "azelaic_acid", "strength": "20%", "frequency": "twice daily", "pause_days_before": 7}]
    assert template.history.count() == 1 and template.history.first().history_user == manager


def test_bad_template_input_changes_nothing(manager_client):
    template = ProtocolTemplate.objects.get(modality="nafl")
    before = ProtocolTemplate.objects.filter(pk=template.pk).values().get()
    data = {"name": template.name, "modality": "nafl", "sessions": "9", "interval_days": "28", "window_before_days": "3",
            "window_after_days": "7", "wavelength_nm": "1064", "spf": "50", "reapply_hours": "2",
            "adjuncts-TOTAL_FORMS": "0", "adjuncts-INITIAL_FORMS": "0"}
    response = manager_client.post(f"/templates/{template.pk}/", data)
    assert response.status_code == 200
    assert {"sessions", "wavelength_nm"} <= set(response.context["form"].errors)
    assert ProtocolTemplate.objects.filter(pk=template.pk).values().get() == before


def test_manager_publishes_a_new_consent_text_version(manager_client):
    page = manager_client.get("/consent-texts/new/?kind=nafl")
    assert page.context["form"].initial["title"] == ConsentText.objects.get(kind="nafl").title
    response = manager_client.post("/consent-texts/new/", {"kind": "nafl", "title": "Laser consent", "body": "New text."})
    assert response.status_code == 302
    assert list(ConsentText.objects.filter(kind="nafl").values_list("version", flat=True)) == [2, 1]
    assert "version 2" in manager_client.get("/consent-texts/").text.lower() or "Version 2" in manager_client.get("/consent-texts/").text


# --- Query counts -------------------------------------------------------------------------------------------------


def _plan_with_sessions(clinician, count):
    plan = ready_plan(clinician, patient=PatientFactory(keloid_tendency=True, anticoagulants=True), sessions=1,
                      adjuncts=[{"agent": "hydroquinone"}, {"agent": "niacinamide"}])
    services.finding_override_record(plan=plan, code=rules.CODE_KELOID, reason="Discussed.", by=clinician)
    if count > 1:
        Plan.objects.filter(pk=plan.pk).update(sessions_planned=count)
        for number in range(2, count + 1):
            TreatmentSessionFactory(plan=plan, number=number)
    return plan


@pytest.mark.parametrize("url", ["/plans/{pk}/", "/plans/{pk}/summary/", "/plans/{pk}/edit/"])
def test_plan_pages_query_count_does_not_grow_with_sessions(clinician_client, clinician, django_assert_max_num_queries, url):
    small, large = _plan_with_sessions(clinician, 1), _plan_with_sessions(clinician, 12)
    budget = 24
    with django_assert_max_num_queries(budget):
        response = clinician_client.get(url.format(pk=small.pk))
    assert response.status_code == 200
    with django_assert_max_num_queries(budget):
        response = clinician_client.get(url.format(pk=large.pk))
    assert response.status_code == 200
    if url == "/plans/{pk}/":
        assert "Session 12 page" in response.text


@pytest.mark.parametrize("extra", [0, 10])
def test_manager_lists_query_count_is_fixed(manager_client, manager, django_assert_max_num_queries, extra):
    for n in range(extra):
        ProtocolTemplateFactory(name=f"Extra template {n}")
        services.consent_text_publish(kind="exosome", title=f"v{n}", body="Text", by=manager)
    with django_assert_max_num_queries(12):
        assert manager_client.get("/templates/").status_code == 200
    with django_assert_max_num_queries(12):
        assert manager_client.get("/consent-texts/").status_code == 200


def test_dashboard_lists_drafts_for_clinicians_only(clinician_client, front_desk_client, clinician):
    plan = make_plan(clinician, patient=PatientFactory(first_name="Dora", last_name="Draft"))
    assert f"/plans/{plan.pk}/" in clinician_client.get("/").text
    assert "Draft course plans" not in front_desk_client.get("/").text
