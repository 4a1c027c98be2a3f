"""The demo clinic: staff for each role, 48 patients with varied ages, skin types and histories, and then
what each plans area adds (plans/demo/*.py: courses, visits, bookings, aftercare). Built with the test
factories from a fixed seed, so it is the same every time, around the day it is built for.

A demo is a working day only on the day it was built for: a week later its bookings are in the past. So
`manage.py demo_clinic` asks `demo_status()` what the database holds and
- builds the demo into an empty database;
- adds nothing when the demo was built for today;
- rebuilds it for today (`demo_rebuild`) when it was built for another day and the database holds nothing but
  the demo — every patient and every staff account is one the demo made — and the database is SQLite (the demo's
  engine, `make demo`); PostgreSQL, the production engine, is never emptied by this module: the command says
  how to start afresh instead;
- touches nothing, and says why, when the database holds anything else (a patient or a staff account someone
  added). Changes made to the demo's own patients during a demo are lost at the next day's rebuild.
"""

import dataclasses
import datetime as dt
import enum
import importlib
import random
import types

import factory.random
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations import RunPython
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from clinic.models import DemoBuild
from patients.models import Patient

DEMO_PASSWORD = "demo-clinic"
DEMO_LOGINS = [("clinician", "clinician"), ("frontdesk", "front_desk"), ("manager", "manager")]
DEMO_SEED = 20261122
DEMO_PATIENTS = 48
# Each module defines seed(ctx: dict) and may add to ctx for the ones after it.
AREA_STEPS = [
    "plans.demo.course", "plans.demo.visits", "plans.demo.scheduling", "plans.demo.aftercare", "plans.demo.outcomes",
]
DEMO_MRNS = frozenset(f"DEMO{n:04d}" for n in range(1, DEMO_PATIENTS + 1))
DEMO_USERNAMES = frozenset({"clinician", "frontdesk", "manager", "drlee"})
# The data migrations whose rows (shipped texts and templates) a rebuild puts back after emptying the database;
# roles are put back by the post-migrate sync. tests/clinic/test_demo.py checks that nothing shipped is missed.
SHIPPED_DATA_MIGRATIONS = [
    "plans.migrations.0003_aftercare_texts_v1",
    "plans.migrations.0005_course_consent_texts_v1",
    "plans.migrations.0006_course_protocol_templates_v1",
    "plans.migrations.0010_patient_text_without_source_keys",
]
REBUILD_VENDORS = {"sqlite"}  # the demo's engine; a PostgreSQL database is never emptied here

NOT_ONLY_DEMO = "This database holds data that is not the demo clinic ({what}), so it was left as it was."
NOT_SQLITE = (
    "The demo clinic is rebuilt only in its own SQLite database; this {vendor} database was left as it was."
)


class DemoState(enum.StrEnum):
    EMPTY = "empty"  # no patient and no staff account: the demo may be built
    CURRENT = "current"  # only the demo, built for today
    STALE = "stale"  # only the demo, built for another day (or before the build day was recorded)
    OTHER = "other"  # holds a patient or staff account the demo did not make: never touched


@dataclasses.dataclass(frozen=True)
class DemoStatus:
    state: DemoState
    built_for: dt.date | None = None
    other: str = ""  # what the database holds besides the demo, for the message (no patient is named)
    has_demo_logins: bool = False


class DemoRefused(Exception):
    pass


def demo_status(*, today: dt.date) -> DemoStatus:
    """What the database holds, as far as the demo loader is concerned. Reads only."""
    patients = Patient._base_manager
    users = get_user_model()._base_manager
    other_patients = patients.exclude(mrn__in=DEMO_MRNS).count()
    other_users = list(users.exclude(username__in=DEMO_USERNAMES).order_by("username").values_list("username", flat=True))
    has_demo_logins = users.filter(username__in=DEMO_USERNAMES).exists()
    if other_patients or other_users:
        parts = []
        if other_patients:
            parts.append(f"{other_patients} patient{'s' if other_patients != 1 else ''} not from the demo")
        if other_users:
            shown = ", ".join(other_users[:3]) + (" …" if len(other_users) > 3 else "")
            parts.append(f"{len(other_users)} staff account{'s' if len(other_users) != 1 else ''} not from the demo: {shown}")
        return DemoStatus(DemoState.OTHER, other="; ".join(parts), has_demo_logins=has_demo_logins)
    if not has_demo_logins and not patients.exists():
        return DemoStatus(DemoState.EMPTY)
    built_for = DemoBuild.objects.order_by("-built_at", "-pk").values_list("built_for", flat=True).first()
    state = DemoState.CURRENT if built_for == today else DemoState.STALE
    return DemoStatus(state, built_for=built_for, has_demo_logins=has_demo_logins)


def demo_exists() -> bool:
    return Patient.objects.filter(mrn="DEMO0001").exists()


@transaction.atomic
def demo_rebuild(*, today: dt.date) -> dict:
    """Empty a database that holds only the demo and build the demo again for `today`.

    Refused (DemoRefused, nothing changed) on any engine but SQLite, and when the database holds anything the
    demo did not make; both are checked here, inside the transaction that empties it, whoever calls."""
    if connection.vendor not in REBUILD_VENDORS:
        raise DemoRefused(NOT_SQLITE.format(vendor=connection.vendor))
    status = demo_status(today=today)
    if status.state is DemoState.OTHER:
        raise DemoRefused(NOT_ONLY_DEMO.format(what=status.other))
    reset_to_migrated()
    return build_demo(today=today)


def reset_to_migrated() -> None:
    """Every table emptied (Django's flush; the migrations table is kept), then the rows the migrations ship put
    back, so the database is as `migrate` left it."""
    call_command("flush", interactive=False, verbosity=0)  # runs the post-migrate sync: roles and permissions
    migrated_apps = MigrationLoader(connection).project_state().apps  # the models as migrate sees them
    schema_editor = types.SimpleNamespace(connection=connection)
    for module_name in SHIPPED_DATA_MIGRATIONS:
        migration = importlib.import_module(module_name).Migration
        for operation in migration.operations:
            if isinstance(operation, RunPython):
                operation.code(migrated_apps, schema_editor)


@transaction.atomic
def build_demo(*, today: dt.date | None = None) -> dict:
    from tests.factories import PatientFactory, UserFactory

    today = today or timezone.localdate()
    DemoBuild.objects.create(built_for=today, seed=DEMO_SEED)
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
        if n % 9 == 0:  # the demo's men: no pregnancy, breastfeeding or hormonal contraception answers
            for key in ("is_pregnant", "is_breastfeeding", "pregnancy_status_confirmed_on", "hormonal_contraception"):
                history.pop(key, None)
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
