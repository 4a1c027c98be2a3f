"""The demo clinic `make demo` loads: realistic, the same every time, a working day whenever it is run, and
never loaded into (or rebuilt over) a database holding anything else."""

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from clinic import demo
from clinic.demo import build_demo
from clinic.models import DemoBuild
from patients.models import Patient
from plans.models import AdverseEvent, Appointment, AftercareText, Plan, TreatmentSession
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# A Monday morning, and the Monday before it: the day `make demo` was first run, and a week later.
MONDAY = dt.datetime(2026, 11, 23, 8, 30, tzinfo=LONDON)
WEEK_AGO = MONDAY - dt.timedelta(days=7)


def _names():
    return list(Patient.objects.order_by("mrn").values_list("mrn", "first_name", "last_name", "date_of_birth"))


def _run() -> str:
    out = StringIO()
    call_command("demo_clinic", stdout=out)
    return out.getvalue()


def _counts():
    return {m._meta.label: m._base_manager.count() for m in apps.get_models() if m._meta.managed}


def _desk_sees_a_working_day(day: dt.date):
    """A morning list, sessions due, follow-ups: what the desk looks for on the day calendar and dashboard."""
    todays = Appointment.objects.filter(start__date=day)
    assert todays.filter(status="checked_in", start__hour__lt=12).count() == 2, "no morning list"
    assert todays.filter(status="booked").exists()
    coming = Appointment.objects.filter(start__date__range=(day + dt.timedelta(days=1), day + dt.timedelta(days=42)),
                                        status="booked")
    assert coming.filter(kind="session").count() >= 5, "no sessions due in the coming weeks"
    assert Appointment.objects.filter(kind="follow_up", start__date__gt=day).exists(), "no follow-ups booked"


@time_machine.travel(MONDAY, tick=False)
def test_demo_is_realistic_and_prints_one_login_per_role():
    text = _run()
    assert "Loaded the demo clinic for today, Monday 23 November 2026" in text
    assert "DEMO DATA ONLY" in text
    for username in ("clinician", "frontdesk", "manager"):
        assert f"username: {username}" in text
    assert text.count("password: demo-clinic") == 3

    patients = Patient.objects.all()
    assert patients.count() >= 40
    assert len(set(patients.values_list("fitzpatrick_type", flat=True))) >= 5
    today = MONDAY.date()
    ages = {(today - p.date_of_birth).days // 365 for p in patients}
    assert max(ages) - min(ages) >= 30
    assert patients.filter(hsv_history=True).exists() and patients.filter(anticoagulants=True).exists()
    assert set(Plan.objects.values_list("state", flat=True)) == {"draft", "active", "completed", "stopped"}
    assert TreatmentSession.objects.filter(status="completed", exosome_lot__isnull=False).count() >= 20
    assert AdverseEvent.objects.filter(outcome="ongoing").exists() and AdverseEvent.objects.exclude(outcome="ongoing").exists()
    around_today = Appointment.objects.filter(start__date__range=(today - dt.timedelta(days=1), today + dt.timedelta(days=7)))
    assert around_today.count() >= 3
    _desk_sees_a_working_day(today)
    assert list(DemoBuild.objects.values_list("built_for", flat=True)) == [today]

    counts = _counts()  # run again the same day: nothing added
    text = _run()
    assert "already loaded for today" in text and "DEMO DATA ONLY" in text
    assert _counts() == counts


@time_machine.travel(MONDAY, tick=False)
def test_same_clinic_every_time():
    with transaction.atomic():
        build_demo()
        first = _names()
        transaction.set_rollback(True)
    assert not Patient.objects.exists()
    build_demo()
    assert _names() == first


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_a_demo_built_a_week_ago_is_rebuilt_for_today(time_machine):
    time_machine.move_to(WEEK_AGO, tick=False)
    _run()
    shipped_texts = AftercareText.objects.count()
    assert Appointment.objects.filter(start__date=WEEK_AGO.date()).exists()

    time_machine.move_to(MONDAY, tick=False)
    assert demo.demo_status(today=MONDAY.date()).state is demo.DemoState.STALE
    text = _run()
    assert "built for Monday 16 November 2026; rebuilt it for today, Monday 23 November 2026" in text
    assert "DEMO DATA ONLY" in text
    assert list(DemoBuild.objects.values_list("built_for", flat=True)) == [MONDAY.date()]
    assert Patient.objects.count() == demo.DEMO_PATIENTS  # rebuilt, not added to
    assert not Appointment.objects.filter(start__date=WEEK_AGO.date(), status="checked_in").exists()
    _desk_sees_a_working_day(MONDAY.date())
    assert AftercareText.objects.count() == shipped_texts
    assert "already loaded for today" in _run()


@time_machine.travel(MONDAY, tick=False)
def test_a_demo_built_before_its_day_was_recorded_counts_as_an_earlier_day():
    UserFactory(username="manager", role="manager")
    PatientFactory(mrn="DEMO0001")
    status = demo.demo_status(today=MONDAY.date())
    assert (status.state, status.built_for) == (demo.DemoState.STALE, None)


def test_a_database_with_anything_else_is_left_untouched(time_machine):
    """One real patient, or one real staff account, next to the demo: nothing rebuilt, a clear message; and the
    rebuild itself refuses, whoever calls it (the command's check removed)."""
    time_machine.move_to(WEEK_AGO, tick=False)
    _run()
    time_machine.move_to(MONDAY, tick=False)
    for extra, expected in [
        (lambda: PatientFactory(mrn="H123456", first_name="Real"), "1 patient not from the demo"),
        (lambda: UserFactory(username="receptionist", role="front_desk"),
         "1 staff account not from the demo: receptionist"),
    ]:
        with transaction.atomic():
            extra()
            before = _counts()
            text = _run()
            assert "holds data that is not the demo clinic" in text and expected in text
            assert "left as it was" in text
            assert "To start afresh" in text
            assert "Real" not in text  # no patient is named
            assert _counts() == before
            assert list(DemoBuild.objects.values_list("built_for", flat=True)) == [WEEK_AGO.date()]
            with pytest.raises(demo.DemoRefused):
                demo.demo_rebuild(today=MONDAY.date())
            assert _counts() == before
            transaction.set_rollback(True)


@time_machine.travel(MONDAY, tick=False)
def test_the_demo_is_never_loaded_into_a_clinic_in_use():
    UserFactory(username="admin", role="manager")
    PatientFactory(mrn="H000001")
    before = _counts()
    text = _run()
    assert "left as it was" in text and "DEMO DATA ONLY" not in text
    assert _counts() == before


@pytest.mark.skipif("connection.vendor == 'sqlite'")
def test_postgres_is_never_emptied_for_a_new_demo_day(time_machine):
    time_machine.move_to(WEEK_AGO, tick=False)
    _run()
    time_machine.move_to(MONDAY, tick=False)
    before = _counts()
    text = _run()
    assert "built for Monday 16 November 2026, so its bookings are in the past" in text
    assert "this postgresql database was left as it was" in text
    assert "dropdb" in text and "createdb" in text
    with pytest.raises(demo.DemoRefused):
        demo.demo_rebuild(today=MONDAY.date())
    assert _counts() == before
    assert list(DemoBuild.objects.values_list("built_for", flat=True)) == [WEEK_AGO.date()]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_emptying_puts_back_every_row_the_migrations_ship():
    """The rebuild leaves the database as `migrate` did: if a new data migration ships rows, add it to
    SHIPPED_DATA_MIGRATIONS."""
    shipped = {label: n for label, n in _counts().items() if n}
    assert shipped.get("plans.AftercareText"), "run on a freshly migrated database"
    PatientFactory()
    demo._empty_database()
    assert {label: n for label, n in _counts().items() if n} == shipped
