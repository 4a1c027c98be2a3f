"""The demo clinic `make demo` loads: realistic, the same every time, and never loaded twice."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from clinic.demo import build_demo
from patients.models import Patient
from plans.models import AdverseEvent, Appointment, Plan, TreatmentSession

pytestmark = pytest.mark.django_db


def _names():
    return list(Patient.objects.order_by("mrn").values_list("mrn", "first_name", "last_name", "date_of_birth"))


def test_demo_is_realistic_and_prints_one_login_per_role():
    out = StringIO()
    call_command("demo_clinic", stdout=out)
    text = out.getvalue()
    assert "DEMO DATA ONLY" in text
    for username in ("clinician", "frontdesk", "manager"):
        assert f"username: {username}" in text
    assert text.count("password: demo-clinic") == 3

    patients = Patient.objects.all()
    assert patients.count() >= 40
    assert len(set(patients.values_list("fitzpatrick_type", flat=True))) >= 5
    ages = {(timezone.localdate() - p.date_of_birth).days // 365 for p in patients}
    assert max(ages) - min(ages) >= 30
    assert patients.filter(hsv_history=True).exists() and patients.filter(anticoagulants=True).exists()
    assert set(Plan.objects.values_list("state", flat=True)) == {"draft", "active", "completed", "stopped"}
    assert TreatmentSession.objects.filter(status="completed", exosome_lot__isnull=False).count() >= 20
    assert AdverseEvent.objects.filter(outcome="ongoing").exists() and AdverseEvent.objects.exclude(outcome="ongoing").exists()
    today = timezone.localdate()
    around_today = Appointment.objects.filter(start__date__range=(today - dt.timedelta(days=1), today + dt.timedelta(days=7)))
    assert around_today.count() >= 3


def test_running_it_again_adds_nothing():
    call_command("demo_clinic", stdout=StringIO())
    counts = (Patient.objects.count(), Plan.objects.count(), Appointment.objects.count())
    out = StringIO()
    call_command("demo_clinic", stdout=out)
    assert "already loaded" in out.getvalue()
    assert (Patient.objects.count(), Plan.objects.count(), Appointment.objects.count()) == counts


def test_same_clinic_every_time():
    with transaction.atomic():
        build_demo()
        first = _names()
        transaction.set_rollback(True)
    assert not Patient.objects.exists()
    build_demo()
    assert _names() == first
