"""Front desk signs in, creates a patient, finds them by search and opens their page (issue 2)."""

import pytest

from tests.browser.conftest import login, shot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_front_desk_creates_finds_and_opens_a_patient(page):
    UserFactory(username="frontdesk", role="front_desk", password="demo-clinic")
    login(page, "frontdesk")
    shot(page, "patients-01-dashboard")

    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_role("link", name="New patient").click()
    page.get_by_label("First name").fill("Leila")
    page.get_by_label("Last name").fill("Haddad")
    page.get_by_label("Medical record number").fill("mrn-4242")
    page.get_by_label("Date of birth").fill("1988-04-12")
    page.get_by_label("Phone").fill("+44 7700 900123")
    # Front desk edits demographics only: no clinical history fields on their form.
    assert page.get_by_label("Pregnant").count() == 0
    shot(page, "patients-02-new-patient-form")
    page.get_by_role("button", name="Save patient").click()
    page.get_by_role("heading", name="Leila Haddad").wait_for()

    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_role("searchbox").fill("Hadd")
    page.get_by_role("link", name="Haddad, Leila").wait_for()
    shot(page, "patients-03-search")
    page.get_by_role("link", name="Haddad, Leila").click()
    page.get_by_text("Record MRN-4242").wait_for()
    assert "+44 7700 900123" in page.content()
    shot(page, "patients-04-patient-page")
