"""Versioned aftercare texts: managers edit them in the app, each edit is a new version, and a sheet already given
keeps the text it was printed with."""

import pytest
from django.urls import reverse

from plans.models import AftercareSheet, AftercareText
from plans.services.aftercare import (
    ERR_STALE_VERSION,
    AftercareError,
    aftercare_sheet_issue,
    aftercare_text_publish,
)
from tests.plans.test_aftercare_content import completed_session, sheet_html, ship_texts

pytestmark = pytest.mark.django_db

EDIT_MN_DAY_0 = reverse("plans:aftercare_text_edit", args=["phase_0_24h", "microneedling"])
EDIT_CALL_CLINIC = reverse("plans:aftercare_text_edit", args=["call_clinic", "all"])


def test_data_migration_ships_version_1_of_every_text_a_sheet_can_need():
    ship_texts()
    texts = {(t.section, t.modality): t.version for t in AftercareText.objects.all()}
    for modality in ("microneedling", "nafl", "rf_microneedling"):
        for section in ("phase_0_24h", "phase_24_72h", "phase_3_7d", "sun_protection"):
            assert texts[(section, modality)] == 1
    assert texts[("phase_after", "nafl")] == 1
    for section in ("exosome", "topicals_restart", "call_clinic", "emergency", "txa_oral_warning", "antiviral"):
        assert texts[(section, "")] == 1


def test_manager_lists_current_versions(manager_client, manager):
    ship_texts()
    aftercare_text_publish(section="emergency", modality="", title="Emergency v2", body="Call 999.", by=manager)

    response = manager_client.get(reverse("plans:aftercare_texts"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Emergency v2" in html and "Go to emergency care now if you have" not in html
    assert EDIT_MN_DAY_0 in html and EDIT_CALL_CLINIC in html


def test_manager_edit_saves_a_new_version_and_keeps_the_old(manager_client, manager):
    ship_texts()
    page = manager_client.get(EDIT_MN_DAY_0)
    assert 'value="1"' in page.content.decode()  # base version travels with the form

    response = manager_client.post(
        EDIT_MN_DAY_0, {"title": "First day", "body": "- Gentle water only.\n- No make-up.", "base_version": 1}
    )

    assert response.status_code == 302 and response["Location"] == reverse("plans:aftercare_texts")
    versions = list(AftercareText.objects.filter(section="phase_0_24h", modality="microneedling").order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].title == "The first 24 hours"  # untouched
    assert versions[1].title == "First day" and versions[1].created_by == manager


def test_printed_sheet_keeps_its_version_after_an_edit(manager_client, clinician_client, front_desk_client):
    first = completed_session()
    before = sheet_html(clinician_client, first)
    assert "needle channels stay open" in before

    manager_client.post(EDIT_MN_DAY_0, {"title": "Day one (revised)", "body": "- Revised advice.", "base_version": 1})
    manager_client.post(EDIT_CALL_CLINIC, {"title": "Ring us", "body": "Ring {clinic_phone}.", "base_version": 1})

    again = sheet_html(front_desk_client, first)  # printed again, by someone else, after the edit
    assert "needle channels stay open" in again and "Revised advice" not in again and "Ring us" not in again
    sheet = AftercareSheet.objects.get(session=first)
    assert sheet.text_versions["phase_0_24h"]["version"] == 1
    assert sheet.text_versions["call_clinic"]["version"] == 1

    second = completed_session(modality="microneedling")  # a new session gets the new text
    fresh = sheet_html(clinician_client, second)
    assert "Revised advice" in fresh and "Ring us" in fresh and "needle channels stay open" not in fresh
    assert AftercareSheet.objects.get(session=second).text_versions["phase_0_24h"]["version"] == 2


def test_issue_is_idempotent(clinician, front_desk):
    session = completed_session()

    first = aftercare_sheet_issue(session=session, by=clinician)
    second = aftercare_sheet_issue(session=session, by=front_desk)

    assert first.pk == second.pk and second.created_by == clinician
    assert AftercareSheet.objects.count() == 1


def test_text_versions_are_never_edited_or_deleted():
    ship_texts()
    text = AftercareText.objects.get(section="emergency", modality="", version=1)
    text.body = "changed"
    with pytest.raises(PermissionError):
        text.save()
    with pytest.raises(PermissionError):
        text.delete()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "Day", "body": "Call {phone_number}", "base_version": 1}, "body", "Unknown placeholder(s): {phone_number}"),
        ({"title": "Day {x}", "body": "ok", "base_version": 1}, "title", "Unknown placeholder(s): {x}"),
        ({"title": "", "body": "ok", "base_version": 1}, "title", "This field is required."),
        ({"title": "Day", "body": "", "base_version": 1}, "body", "This field is required."),
    ],
)
def test_bad_edit_shows_the_error_and_saves_nothing(manager_client, data, field, message):
    ship_texts()

    response = manager_client.post(EDIT_MN_DAY_0, data)

    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert AftercareText.objects.filter(section="phase_0_24h", modality="microneedling").count() == 1


def test_edit_based_on_an_old_version_is_refused(manager_client, manager):
    ship_texts()
    aftercare_text_publish(section="phase_0_24h", modality="microneedling", title="B", body="b", by=manager)

    response = manager_client.post(EDIT_MN_DAY_0, {"title": "A", "body": "a", "base_version": 1})

    assert response.status_code == 200
    assert ERR_STALE_VERSION.format(version=2) in response.content.decode()
    assert AftercareText.objects.filter(section="phase_0_24h", modality="microneedling").count() == 2


def test_a_modality_can_get_its_own_version_of_a_shared_text(manager_client, clinician_client):
    ship_texts()
    url = reverse("plans:aftercare_text_edit", args=["call_clinic", "nafl"])
    assert "No version yet" in manager_client.get(url).content.decode()

    manager_client.post(url, {"title": "Laser patients: call us", "body": "Call {clinic_phone}.", "base_version": 0})

    assert "Laser patients: call us" in sheet_html(clinician_client, completed_session(modality="nafl"))
    assert "Laser patients: call us" not in sheet_html(clinician_client, completed_session(modality="microneedling"))


@pytest.mark.parametrize(("section", "modality"), [("nonsense", "all"), ("call_clinic", "laser"), ("phase_0_24h", "")])
def test_unknown_section_or_modality_is_404(manager_client, section, modality):
    url = f"/aftercare-texts/{section}/{modality}/" if modality else f"/aftercare-texts/{section}//"
    assert manager_client.get(url).status_code == 404


def test_publish_service_rejects_unknown_section(manager):
    with pytest.raises(AftercareError):
        aftercare_text_publish(section="nonsense", modality="", title="t", body="b", by=manager)
