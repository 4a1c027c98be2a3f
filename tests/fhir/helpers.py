"""A hand-built patient for the FHIR tests, and Bundle helpers (validation, reference resolution)."""

import datetime as dt
from decimal import Decimal

from fhir.resources.R4B import get_fhir_model_class

from plans.models import SessionAmendment
from plans.services.aftercare import aftercare_sheet_issue
from plans.services.visits import SessionRecord, session_amend
from tests.clock import clinic_time
from tests.factories import (
    AdverseEventFactory,
    AppointmentFactory,
    AssessmentFactory,
    ConsentFactory,
    ConsentTextFactory,
    ExosomeProductFactory,
    LotFactory,
    PatientFactory,
    PlanAdjunctFactory,
    PlanFactory,
    TreatmentSessionFactory,
    UserFactory,
)
from tests.plans.test_aftercare_content import ship_texts

NOW = clinic_time("2026-03-10", "10:30")  # a fixed clinic morning; every date below is built from it
TODAY = NOW.date()


def validate(bundle: dict):
    """fhir.resources (R4B models, which validate R4 structures) parses the whole Bundle, nested resources too."""
    return get_fhir_model_class("Bundle").model_validate(bundle)


def references(node):
    """Every Reference.reference string anywhere in the JSON."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def resources(bundle: dict, resource_type: str | None = None) -> list[dict]:
    return [
        e["resource"] for e in bundle["entry"]
        if resource_type is None or e["resource"]["resourceType"] == resource_type
    ]


def by_id(bundle: dict) -> dict[str, dict]:
    return {r["id"]: r for r in resources(bundle)}


def by_full_url(bundle: dict) -> dict[str, dict]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def at(days: int, hour: int = 10) -> dt.datetime:
    """An instant ``days`` from the frozen now, at ``hour`` clinic time."""
    return NOW.replace(hour=hour, minute=0) + dt.timedelta(days=days)


def two_course_patient(*, extra_sessions: int = 0, extra_assessments: int = 0, tag: str = ""):
    """A patient with a completed first course (three sessions, one amended, an aftercare sheet), an active
    second course (one done, one skipped, one booked) and an adverse event tied to a lot; ``extra_*`` grow the
    record for query-count tests."""
    ship_texts()
    hart = UserFactory(role="clinician", username="hart", first_name="Amelia", last_name="Hart")
    osei = UserFactory(role="clinician", username="osei", first_name="Kofi", last_name="Osei")
    patient = PatientFactory(
        mrn=f"MRN-4711{tag}", first_name="Nadia", last_name="Rahman", date_of_birth=dt.date(1985, 3, 14), sex="F",
        phone="+44 7700 900123", email="nadia@example.com", email_consent=False, fitzpatrick_type=4,
        melasma_onset_year=2019, trigger_pregnancy=True, woods_lamp_type="mixed",
        screening_confirmed_at=at(-200),
    )
    product = ExosomeProductFactory(name="ExoRenew Serum", manufacturer="Dermagen Labs")
    lot = LotFactory(product=product, number=f"EXO-2291{tag}", expiry_date=TODAY + dt.timedelta(days=300),
                     received_on=TODAY - dt.timedelta(days=200))
    first = PlanFactory(
        patient=patient, modality="microneedling", state="completed", sessions_planned=3, interval_days=28,
        start_date=TODAY - dt.timedelta(days=180), exosome_product=product, created_by=hart, approved_by=hart,
        ended_at=at(-110), followup_months=[1, 3], spf=50, goals="Lighten malar patches",
    )
    PlanAdjunctFactory(plan=first, agent="hydroquinone", strength="4%", frequency="nightly", pause_days_before=5)
    sessions = []
    for number in range(1, 4):
        performed = at(-180 + 28 * (number - 1))
        sessions.append(TreatmentSessionFactory(
            plan=first, number=number, status="completed", modality="microneedling", performed_at=performed,
            completed_at=performed, performed_by=hart, device_name="Dermapen 4",
            device_settings={"needle_depth_mm": 0.5, "passes": 3}, exosome_lot=lot,
            exosome_volume_ml=Decimal("2.00"), exosome_applied="after needling", zones="malar, forehead",
        ))
    for kind, text in (("microneedling", "Microneedling consent body"), ("exosome", "Exosome consent body")):
        ConsentFactory(plan=first, text=ConsentTextFactory(kind=kind, version=2, body=text), clinician=hart,
                       signed_at=at(-185))
    # Session 2 amended: depth 0.5 was a typo for 0.8.
    amended = sessions[1]
    session_amend(
        session=amended,
        record=SessionRecord(
            performed_at=amended.performed_at, performed_by=hart, device_name="Dermapen 4",
            device_settings={"needle_depth_mm": 0.8, "passes": 3}, exosome_lot=lot,
            exosome_volume_ml=Decimal("2.00"), exosome_applied="after needling", zones="malar, forehead",
        ),
        reason="Depth typed wrongly", confirm_warnings=True, by=osei,
    )
    sheet = aftercare_sheet_issue(session=sessions[0], by=hart)

    second = PlanFactory(
        patient=patient, modality="nafl", state="active", sessions_planned=4, interval_days=28,
        start_date=TODAY - dt.timedelta(days=40), exosome_product=product, created_by=osei, approved_by=osei,
        device_name="Fraxel", device_settings={"energy_mj": 10},
    )
    done = TreatmentSessionFactory(
        plan=second, number=1, status="completed", modality="nafl", performed_at=at(-40), completed_at=at(-40),
        performed_by=osei, device_name="Fraxel", device_settings={"energy_mj": 10}, exosome_lot=lot,
    )
    TreatmentSessionFactory(plan=second, number=2, status="skipped", closed_reason="Patient travelling")
    booked = TreatmentSessionFactory(plan=second, number=3)
    TreatmentSessionFactory(plan=second, number=4)
    hour = 12 if tag else 10  # a second patient's booking must not overlap the same clinician's first
    AppointmentFactory(patient=patient, plan=second, session=booked, start=at(16, hour), end=at(16, hour + 1),
                       clinician=osei)
    ConsentFactory(plan=second, text=ConsentTextFactory(kind="nafl", version=1, body="NAFL consent body"),
                   clinician=osei, signed_at=at(-45))

    baseline = AssessmentFactory(
        patient=patient, plan=first, kind="baseline", taken_on=TODAY - dt.timedelta(days=180), rater=hart,
        melasqol_items=[3, 4, 5, 2, 6, 3, 4, 5, 2, 3], melasqol_total=37,
    )
    follow_up = AssessmentFactory(
        patient=patient, plan=first, kind="follow_up", taken_on=TODAY - dt.timedelta(days=80), rater=osei,
        forehead_area=1, masi=Decimal("9.4"), mmasi=Decimal("5.2"),
    )
    event = AdverseEventFactory(
        patient=patient, plan=second, session=done, ae_type="pih", onset_date=TODAY - dt.timedelta(days=35),
        grade=3, serious=False, lot=lot, outcome="resolved", resolved_on=TODAY - dt.timedelta(days=10),
        description="Darkening at the malar edges", recorded_by=osei, reviewed_by=hart, reviewed_at=at(-34),
    )
    event.notes.create(note="Started azelaic acid", by=osei)

    for n in range(extra_sessions):  # more courses, each with a performed session
        plan = PlanFactory(patient=patient, state="completed", sessions_planned=1, created_by=hart,
                           start_date=TODAY - dt.timedelta(days=300 + n))
        TreatmentSessionFactory(plan=plan, number=1, status="completed", performed_at=at(-300 - n),
                                completed_at=at(-300 - n), performed_by=UserFactory(role="clinician"), exosome_lot=
                                LotFactory(product=product))
    for n in range(extra_assessments):
        AssessmentFactory(patient=patient, plan=first, kind="follow_up", taken_on=TODAY - dt.timedelta(days=n),
                          rater=UserFactory(role="clinician"))
    return {
        "patient": patient, "first": first, "second": second, "sessions": sessions, "amended": amended,
        "done": done, "lot": lot, "sheet": sheet, "baseline": baseline, "follow_up": follow_up, "event": event,
        "hart": hart, "osei": osei, "amendment": SessionAmendment.objects.get(session=amended),
    }
