"""Usable at tablet width (issue 2): the main pages fit a 768 px portrait tablet without sideways scrolling."""

import pytest

from tests.browser.conftest import login, shot
from tests.factories import PatientFactory, PlanFactory, TreatmentSessionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_main_pages_fit_a_tablet(page):
    UserFactory(username="clinician", role="clinician", password="demo-clinic")
    patient = PatientFactory(first_name="Amara", last_name="Okonkwo-Whitfield", allergies="lidocaine, nickel")
    plan = PlanFactory(patient=patient, state="active")
    for number in range(1, 5):
        TreatmentSessionFactory(plan=plan, number=number)
    page.set_viewport_size({"width": 768, "height": 1024})
    login(page, "clinician")
    for name, path in [("dashboard", "/"), ("patients", "/patients/"), ("patient", patient.get_absolute_url()),
                       ("patient-edit", f"/patients/{patient.pk}/edit/"), ("plan", plan.get_absolute_url()),
                       ("schedule", "/schedule/"), ("adverse-events", "/adverse-events/")]:
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a tablet"
        shot(page, f"tablet-{name}")
    # Narrower than a tablet the menu collapses behind the toggler and opens on tap.
    page.set_viewport_size({"width": 600, "height": 900})
    page.goto("/")
    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("link", name="Patients", exact=True).wait_for(state="visible")
