"""One patient's record as a FHIR R4 Bundle of type collection."""

from django.utils import timezone

from plans.fhir import mapping
from plans.fhir.ids import base, resource_id
from plans.fhir.selectors import PatientRecord
from plans.models.visits import SessionStatus
from plans.services.aftercare import aftercare_sheet_pdf


def record_resources(record: PatientRecord) -> list[dict]:
    """Every resource of the record, in reading order; staff and lots once each, however often referenced."""
    patient = record.patient
    staff: dict[int, object] = {}
    lots: dict[int, object] = {}

    def seen(user):
        if user is not None:
            staff.setdefault(user.pk, user)

    resources = [mapping.patient_resource(patient), mapping.melasma_condition(patient)]
    if patient.fitzpatrick_type:
        resources.append(mapping.fitzpatrick_observation(patient))
    clinical = []
    for plan in record.plans:
        plan.patient = patient  # the same object: no query for plan.patient
        seen(plan.created_by)
        seen(plan.approved_by)
        clinical.append(mapping.careplan(plan, record.timelines[plan.pk], record.today))
        for consent in plan.consents.all():
            seen(consent.clinician)
            clinical.append(mapping.consent(consent, patient, base()))
        for session in plan.sessions.all():
            if session.status != SessionStatus.COMPLETED:
                continue
            seen(session.performed_by)
            for amendment in session.amendments.all():
                seen(amendment.by)
            if session.exosome_lot is not None:
                lots.setdefault(session.exosome_lot.pk, session.exosome_lot)
            clinical.append(mapping.procedure(session, plan))
            sheet = getattr(session, "aftercare_sheet", None)
            if sheet is not None:
                seen(sheet.created_by)
                clinical.append(mapping.document_reference(sheet, session, patient, aftercare_sheet_pdf(sheet=sheet)))
    for assessment in record.assessments:
        assessment.patient = patient
        seen(assessment.rater)
        clinical += mapping.score_observations(assessment)
    for event in record.adverse_events:
        event.patient = patient
        seen(event.recorded_by)
        seen(event.reviewed_by)
        if event.lot is not None:
            lots.setdefault(event.lot.pk, event.lot)
        clinical.append(mapping.adverse_event(event))
    resources += clinical
    resources += [mapping.lot_device(lot) for _, lot in sorted(lots.items())]
    resources += [mapping.practitioner(user) for _, user in sorted(staff.items())]
    return resources


def patient_bundle(record: PatientRecord) -> dict:
    bundle_id = resource_id("patient-record", record.patient.pk)
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"lastUpdated": mapping.instant(timezone.now())},
        "type": "collection",
        "timestamp": mapping.instant(timezone.now()),
        "entry": [mapping.entry(resource) for resource in record_resources(record)],
    }
