"""Shared set-up for the course tests: a plan ready to activate, and the builder's POST data."""

import datetime as dt

from django.utils import timezone

from plans.models import ConsentKind
from plans.services import course as services
from tests.factories import ConsentFactory, ConsentTextFactory, ExosomeProductFactory, PatientFactory


def consent_texts():
    """Version 1 of each kind (shipped by migration; recreated here for transactional tests that flush it)."""
    return {kind: ConsentTextFactory(kind=kind, version=1) for kind in ConsentKind.values}


def make_plan(by, *, patient=None, sessions=4, adjuncts=None, start=None, **fields):
    patient = patient or PatientFactory()
    values = dict(
        modality="microneedling", device_name="Dermapen", device_settings={"needle_depth_mm": 0.2},
        sessions_planned=sessions, interval_days=28, window_before_days=3, window_after_days=7,
        start_date=start or timezone.localdate() + dt.timedelta(days=7), exosome_product=ExosomeProductFactory(),
        followup_months=[1, 3, 6],
    )
    values.update(fields)
    return services.plan_create(patient=patient, by=by, adjuncts=adjuncts or [], **values)


def consent_plan(plan, by):
    texts = consent_texts()
    for kind in (plan.modality, ConsentKind.EXOSOME):
        ConsentFactory(plan=plan, text=texts[kind], clinician=by)


def ready_plan(by, **kwargs):
    """A draft with no blocking findings, fresh screening and both consents: it may be activated."""
    plan = make_plan(by, **kwargs)
    consent_plan(plan, by)
    return plan


def plan_in_state(state, by, **kwargs):
    plan = ready_plan(by, **kwargs)
    if state in ("active", "completed"):
        services.plan_activate(plan=plan, by=by)
    if state == "completed":
        services.plan_complete(plan=plan, by=by)
    if state == "stopped":
        services.plan_stop(plan=plan, reason="Patient moved away.", by=by)
    plan.refresh_from_db()
    return plan


def builder_data(**overrides):
    """A valid POST for the plan builder: 4 microneedling sessions from next week, one adjunct row."""
    data = {
        "modality": "microneedling", "device_name": "Dermapen 4", "needle_depth_mm": "0.2", "passes": "3",
        "endpoint": "erythema", "sessions_planned": "4", "interval_days": "28", "window_before_days": "3",
        "window_after_days": "7", "start_date": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
        "followup_months": "1, 3, 6", "spf": "50", "broad_spectrum": "on", "tinted_iron_oxide": "on",
        "reapply_hours": "2", "goals": "Lighter cheeks before summer", "notes": "",
        "adjuncts-TOTAL_FORMS": "1", "adjuncts-INITIAL_FORMS": "0", "adjuncts-MIN_NUM_FORMS": "0",
        "adjuncts-MAX_NUM_FORMS": "12",
        "adjuncts-0-agent": "hydroquinone", "adjuncts-0-strength": "4%", "adjuncts-0-frequency": "nightly",
        "adjuncts-0-pause_days_before": "",
        "save": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
