"""The demo clinic: staff for each role, 48 patients with varied ages, skin types and histories, and then
what each plans area adds (plans/demo/*.py: courses, visits, bookings, aftercare). Built with the test
factories from a fixed seed, so it is the same every time; running it again adds nothing."""

import datetime as dt
import importlib
import random

import factory.random
from django.db import transaction
from django.utils import timezone

from patients.models import Patient

DEMO_PASSWORD = "demo-clinic"
DEMO_LOGINS = [("clinician", "clinician"), ("frontdesk", "front_desk"), ("manager", "manager")]
DEMO_SEED = 20261122
DEMO_PATIENTS = 48
# Each module defines seed(ctx: dict) and may add to ctx for the ones after it.
AREA_STEPS = [
    "plans.demo.course", "plans.demo.visits", "plans.demo.scheduling", "plans.demo.aftercare", "plans.demo.outcomes",
]


def demo_exists() -> bool:
    return Patient.objects.filter(mrn="DEMO0001").exists()


@transaction.atomic
def build_demo(*, today: dt.date | None = None) -> dict:
    from tests.factories import PatientFactory, UserFactory

    today = today or timezone.localdate()
    factory.random.reseed_random(DEMO_SEED)
    rng = random.Random(DEMO_SEED)

    staff = {
        "clinician": UserFactory(username="clinician", first_name="Amelia", last_name="Hart", role="clinician"),
        "frontdesk": UserFactory(username="frontdesk", first_name="Sam", last_name="Okafor", role="front_desk"),
        "manager": UserFactory(username="manager", first_name="Priya", last_name="Shah", role="manager"),
        "clinician2": UserFactory(username="drlee", first_name="Daniel", last_name="Lee", role="clinician"),
    }
    patients = []
    for n in range(1, DEMO_PATIENTS + 1):
        age = rng.randint(21, 68)
        history = _varied_history(rng, today)
        patients.append(
            PatientFactory(
                mrn=f"DEMO{n:04d}",
                date_of_birth=today - dt.timedelta(days=age * 365 + rng.randint(0, 364)),
                sex="F" if n % 9 else "M",
                fitzpatrick_type=rng.choice([1, 2, 3, 3, 4, 4, 4, 5, 5, 6]),
                email_consent=n % 5 != 0,
                email="" if n % 11 == 0 else factory.LazyAttribute(lambda p: f"{p.first_name.lower()}.{p.last_name.lower()}@example.com"),
                melasma_onset_year=today.year - rng.randint(1, 15),
                trigger_pregnancy=rng.random() < 0.3,
                trigger_hormonal_contraception=rng.random() < 0.25,
                trigger_sun=rng.random() < 0.7,
                screening_confirmed_by=staff["clinician"],
                **history,
            )
        )
    ctx = {"today": today, "rng": rng, "staff": staff, "patients": patients}
    for module_name in AREA_STEPS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        module.seed(ctx)
    return ctx


def _varied_history(rng: random.Random, today: dt.date) -> dict:
    """Mostly unremarkable screening answers, with the findings a clinic meets now and then."""
    answers = {}
    roll = rng.random()
    if roll < 0.06:
        answers.update(is_pregnant=True, pregnancy_status_confirmed_on=today - dt.timedelta(days=3))
    elif roll < 0.10:
        answers.update(is_breastfeeding=True, pregnancy_status_confirmed_on=today - dt.timedelta(days=5))
    if rng.random() < 0.15:
        answers.update(hsv_history=True, hsv_last_outbreak=today - dt.timedelta(days=rng.randint(20, 400)))
    if rng.random() < 0.08:
        answers["isotretinoin_last_dose"] = today - dt.timedelta(days=rng.randint(60, 500))
    if rng.random() < 0.08:
        answers["anticoagulants"] = True
    if rng.random() < 0.06:
        answers["keloid_tendency"] = True
    if rng.random() < 0.1:
        answers["photosensitising_medicines"] = rng.choice(["doxycycline", "hydrochlorothiazide", "ibuprofen daily"])
    if rng.random() < 0.3:
        answers["hormonal_contraception"] = rng.choice(["combined", "progestin_only"])
    if rng.random() < 0.05:
        answers["thrombosis_history"] = True
    if rng.random() < 0.04:
        answers["pacemaker_or_implant"] = True
    if rng.random() < 0.12:
        answers["allergies"] = rng.choice(["lidocaine", "nickel", "sulfites"])
    if rng.random() < 0.1:
        answers["smoker"] = True
    return answers
