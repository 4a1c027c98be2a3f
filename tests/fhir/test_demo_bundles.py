"""The Bundle of every demo patient validates as FHIR R4 and its references resolve."""

import pytest

from patients.models import Patient
from plans.fhir import bundle as fhir_bundle
from plans.fhir.selectors import patient_record
from tests.clock import clinic_time
from tests.fhir.helpers import by_full_url, references, validate

pytestmark = pytest.mark.django_db


def test_every_demo_patient_bundle_validates(time_machine, monkeypatch):
    from clinic import demo

    time_machine.move_to(clinic_time("2026-03-10", "10:30"))
    demo.build_demo()
    # The sheets' PDFs are checked in test_bundle.py; here a placeholder keeps 48 patients' export quick.
    monkeypatch.setattr(fhir_bundle, "aftercare_sheet_pdf", lambda *, sheet: b"%PDF-1.7 placeholder")
    patients = list(Patient.objects.order_by("pk"))
    assert len(patients) >= 40
    kinds = set()
    for patient in patients:
        bundle = fhir_bundle.patient_bundle(patient_record(patient.pk))
        validate(bundle)
        urls = by_full_url(bundle)
        assert [ref for ref in references(bundle) if ref not in urls] == [], patient.mrn
        kinds |= {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds >= {
        "Patient", "Condition", "Observation", "CarePlan", "Procedure", "Device", "AdverseEvent", "Consent",
        "DocumentReference", "Practitioner",
    }
