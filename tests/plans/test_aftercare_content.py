"""What the aftercare sheet says, through the print view's HTML: per modality, per adjunct, only what applies."""

import datetime as dt
import importlib
import re
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.urls import reverse

from plans.models import AftercareSheet, AftercareText, Lot
from plans.services.aftercare import ERR_NOT_COMPLETED, fill_placeholders, text_blocks
from tests.factories import (
    AppointmentFactory,
    ExosomeProductFactory,
    LotFactory,
    PatientFactory,
    PlanAdjunctFactory,
    PlanFactory,
    TreatmentSessionFactory,
    UserFactory,
)

LONDON = ZoneInfo("Europe/London")
PERFORMED = dt.datetime(2025, 6, 3, 10, 0, tzinfo=LONDON)  # a Tuesday


def ship_texts():
    """Version 1 of every text, as the data migration ships it (a transactional test's flush removes it)."""
    importlib.import_module("plans.migrations.0003_aftercare_texts_v1").ship_version_1(apps, None)


def completed_session(
    *, modality="microneedling", agents=(), hsv=False, lot=True, email="nadia.rahman@example.com",
    email_consent=True, status="completed", performed_at=PERFORMED, next_at=None, exosome_applied="",
):
    """A session performed and recorded as done, with the plan, regimen and patient it needs."""
    ship_texts()
    patient = PatientFactory(
        first_name="Nadia", last_name="Rahman", date_of_birth=dt.date(1985, 3, 14), hsv_history=hsv,
        email=email, email_consent=email_consent,
    )
    plan = PlanFactory(patient=patient, modality=modality, state="active", start_date=performed_at.date())
    for agent in agents:
        PlanAdjunctFactory(plan=plan, agent=agent, strength="", frequency="")
    session = TreatmentSessionFactory(
        plan=plan, number=1, status=status, modality=modality,
        performed_at=performed_at if status == "completed" else None,
        completed_at=performed_at if status == "completed" else None,
        performed_by=UserFactory(role="clinician", first_name="Amelia", last_name="Hart"),
        exosome_lot=_demo_lot() if lot else None, exosome_applied=exosome_applied,
        closed_reason="Course shortened." if status in ("cancelled", "skipped") else "",
    )
    if next_at is not None:
        AppointmentFactory(patient=patient, plan=plan, start=next_at, status="booked")
    return session


def _demo_lot():
    lot = Lot.objects.filter(number="EXO-2291").first()
    return lot or LotFactory(number="EXO-2291", product=ExosomeProductFactory(name="ExoRenew Serum"))


def sheet_html(client, session) -> str:
    response = client.get(reverse("plans:aftercare", args=[session.pk]))
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def section_keys(html: str) -> list[str]:
    return re.findall(r'data-section="([a-z0-9_]+)"', html)


ALWAYS = ["next_appointment", "sun_protection", "call_clinic", "emergency"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("modality", "phase_keys", "expected_titles", "expected_text", "absent_text"),
    [
        (
            "microneedling", ["phase_0_24h", "phase_24_72h", "phase_3_7d"],
            ["The first 24 hours", "24 to 72 hours", "Days 3 to 7"],
            ["needle channels stay open for about 12–36 hours", "Make-up is fine again from 24–48 hours",
             "mineral sunscreen (zinc oxide or titanium dioxide) from about 24 hours"],
            ["Cool compress", "bronzed", "avoid direct sun for 1–2 months", "No liquid make-up"],
        ),
        (
            "nafl", ["phase_0_24h", "phase_24_72h", "phase_3_7d", "phase_after"],
            ["Treatment day", "Days 1 to 3", "Days 3 to 7 and the first week", "The months after"],
            ["Cool compress for 10 minutes every hour", "Sleep with your head raised", "bronzed",
             "Strictly avoid direct sun for 1–2 months", "sunscreen every day for at least 3 months"],
            ["needle channels", "No liquid make-up", "from about 24 hours"],
        ),
        (
            "rf_microneedling", ["phase_0_24h", "phase_24_72h", "phase_3_7d"],
            ["The first 24 hours", "Once the redness settles", "For about a week"],
            ["No liquid make-up", "Ice wrapped in a cloth", "Mineral make-up is allowed once the redness has settled"],
            ["needle channels", "Cool compress", "bronzed", "The months after"],
        ),
    ],
)
def test_each_modality_gets_its_own_phases(
    clinician_client, modality, phase_keys, expected_titles, expected_text, absent_text
):
    html = sheet_html(clinician_client, completed_session(modality=modality))

    keys = section_keys(html)
    assert [k for k in keys if k.startswith("phase_")] == phase_keys
    for key in ALWAYS + ["exosome"]:
        assert key in keys
    for text in expected_titles + expected_text:
        assert text in html
    for text in absent_text:
        assert text not in html


@pytest.mark.django_db
def test_header_shows_patient_clinic_product_lot_and_next_appointment(clinician_client, settings):
    settings.CLINIC_NAME = "Harbour Skin Clinic"
    settings.CLINIC_PHONE = "+44 20 7946 0123"
    session = completed_session(next_at=dt.datetime(2025, 7, 1, 14, 30, tzinfo=LONDON))

    html = sheet_html(clinician_client, session)

    assert "Nadia Rahman" in html
    assert "14 March 1985" in html  # date of birth, in the running header
    assert "Tuesday 3 June 2025" in html
    assert "Tuesday 1 July 2025 at 14:30" in html
    assert "ExoRenew Serum, lot EXO-2291" in html
    assert "Call Harbour Skin Clinic on +44 20 7946 0123" in html
    assert "Amelia Hart" in html


@pytest.mark.django_db
def test_next_appointment_to_be_booked_when_none_is_live(clinician_client):
    session = completed_session()
    # A cancelled appointment and one before the session do not count.
    AppointmentFactory(patient=session.plan.patient, plan=session.plan, status="cancelled",
                       start=PERFORMED + dt.timedelta(days=28))
    AppointmentFactory(patient=session.plan.patient, plan=session.plan, start=PERFORMED - dt.timedelta(days=28))

    html = sheet_html(clinician_client, session)

    assert "To be booked — the clinic will call you." in html


@pytest.mark.django_db
def test_next_appointment_is_the_first_live_one_of_the_same_plan(clinician_client):
    session = completed_session(next_at=dt.datetime(2025, 7, 8, 9, 15, tzinfo=LONDON))
    AppointmentFactory(patient=session.plan.patient, plan=session.plan, start=dt.datetime(2025, 9, 1, 9, 0, tzinfo=LONDON))
    AppointmentFactory(start=dt.datetime(2025, 6, 10, 9, 0, tzinfo=LONDON))  # someone else's plan

    html = sheet_html(clinician_client, session)

    assert "Tuesday 8 July 2025 at 09:15" in html
    assert "1 September 2025" not in html and "10 June 2025" not in html


# --- per adjunct ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("modality", "agents", "restart_line", "absent"),
    [
        # MN/RFMN: restart about day 5, NAFL day 7 (S70, S71) after Tuesday 3 June 2025.
        ("microneedling", ["tretinoin"], "Tretinoin: restart on Sunday 8 June 2025", ["Hydroquinone"]),
        ("rf_microneedling", ["hydroquinone"], "Hydroquinone: restart on Sunday 8 June 2025", ["Tretinoin"]),
        ("nafl", ["tretinoin"], "Tretinoin: restart on Tuesday 10 June 2025", ["Hydroquinone"]),
        ("microneedling", ["vitamin_c", "niacinamide"], "Vitamin C (ascorbic acid): restart on Sunday 8 June 2025",
         ["Tretinoin"]),
    ],
)
def test_restart_day_appears_only_for_the_agents_prescribed(clinician_client, modality, agents, restart_line, absent):
    html = sheet_html(clinician_client, completed_session(modality=modality, agents=agents))

    assert "topicals_restart" in section_keys(html)
    assert restart_line in html
    for word in absent:
        assert f"{word}:" not in html


@pytest.mark.django_db
def test_agents_never_paused_are_listed_as_continuing(clinician_client):
    html = sheet_html(clinician_client, completed_session(agents=["hydroquinone", "niacinamide"]))

    assert "Niacinamide: not paused for treatment; continue as prescribed." in html


@pytest.mark.django_db
@pytest.mark.parametrize("agents", [[], ["niacinamide"], ["txa_oral"], ["cysteamine", "txa_topical"]])
def test_no_regimen_section_without_a_paused_agent(clinician_client, agents):
    html = sheet_html(clinician_client, completed_session(agents=agents))

    assert "topicals_restart" not in section_keys(html)
    assert "restart on" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(("agents", "shown"), [(["txa_oral"], True), (["txa_topical", "hydroquinone"], False), ([], False)])
def test_oral_txa_warning_only_when_oral_txa_is_prescribed(clinician_client, agents, shown):
    html = sheet_html(clinician_client, completed_session(agents=agents))

    assert ("txa_oral_warning" in section_keys(html)) is shown
    assert ("pain or swelling in a calf" in html) is shown


@pytest.mark.django_db
@pytest.mark.parametrize("hsv", [True, False])
def test_antiviral_reminder_only_with_hsv_history(clinician_client, hsv):
    html = sheet_html(clinician_client, completed_session(hsv=hsv))

    assert ("antiviral" in section_keys(html)) is hsv
    assert ("Take your antiviral medicine exactly as prescribed" in html) is hsv


@pytest.mark.django_db
def test_no_exosome_section_when_no_lot_was_applied(clinician_client):
    html = sheet_html(clinician_client, completed_session(lot=False))

    assert "exosome" not in section_keys(html)
    assert "The exosome product applied today" not in html


@pytest.mark.django_db
def test_stopped_adjunct_is_not_on_the_sheet(clinician_client):
    session = completed_session(agents=["hydroquinone"])
    PlanAdjunctFactory(plan=session.plan, agent="tretinoin", stop_date=dt.date(2025, 5, 1))

    html = sheet_html(clinician_client, session)

    assert "Hydroquinone: restart on" in html
    assert "Tretinoin" not in html


@pytest.mark.django_db
def test_sun_protection_follows_the_plan(clinician_client):
    session = completed_session(modality="nafl")
    plan = session.plan
    plan.spf, plan.tinted_iron_oxide, plan.reapply_hours, plan.sun_notes = 50, False, 3, "Hat <b>always</b>"
    plan.save()

    html = sheet_html(clinician_client, session)

    assert "broad-spectrum (UVA and UVB) sunscreen, SPF 50 or higher" in html
    assert "Reapply every 3 hours outdoors" in html
    assert "iron oxides" not in html
    assert "Hat &lt;b&gt;always&lt;/b&gt;" in html  # plan notes are escaped, never HTML
    assert "Sunscreen is allowed straight after this treatment" in html  # NAFL after-procedure rule (S69)


@pytest.mark.django_db
def test_text_content_is_escaped_and_placeholders_filled(clinician_client, manager):
    AftercareText.objects.create(
        section="emergency", modality="", version=2, title="Emergency <script>x</script>",
        body="Call {clinic_phone} <img src=x onerror=alert(1)>\n- {unknown} stays\n- {clinic_name}.__class__",
        created_by=manager,
    )

    html = sheet_html(clinician_client, completed_session())

    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "{unknown} stays" in html


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["planned", "blocked", "missed", "cancelled", "skipped"])
def test_no_sheet_before_the_session_is_done(front_desk_client, status):
    session = completed_session(status=status)

    response = front_desk_client.get(reverse("plans:aftercare", args=[session.pk]))

    assert response.status_code == 409
    assert ERR_NOT_COMPLETED in response.content.decode()
    assert not AftercareSheet.objects.exists()


@pytest.mark.django_db
def test_print_view_is_standalone_and_printable(front_desk_client):
    session = completed_session()

    html = sheet_html(front_desk_client, session)

    assert 'class="navbar' not in html  # no app chrome
    assert "css/aftercare-print.css" in html and "js/clinic.js" in html
    assert "data-print" in html
    assert 'style="' not in html and "<script>" not in html  # CSP: no inline styles or scripts
    sheet = AftercareSheet.objects.get(session=session)
    assert sheet.created_by.username == "desk_brown"


def test_text_blocks_and_placeholders_are_plain():
    assert text_blocks("Intro line\nsecond\n\n- a\n- b\n\n- c\nOutro") == [
        {"kind": "p", "text": "Intro line\nsecond"},
        {"kind": "ul", "items": ["a", "b"]},
        {"kind": "ul", "items": ["c"]},
        {"kind": "p", "text": "Outro"},
    ]
    assert fill_placeholders("{lot} {lot.__class__} {x}", {"lot": "L1"}) == "L1 {lot.__class__} {x}"
