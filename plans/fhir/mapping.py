"""Rows → FHIR R4 resources (plain dicts). Pure: no queries; every row read here was loaded by
plans.fhir.selectors.patient_record.

Codes: SNOMED CT where an international code exists (melasma, face); HL7 terminology for AdverseEvent and
Consent value sets; the clinic's own CodeSystems (plans.fhir.ids.code_system) for the scores, modalities,
adverse event types, CTCAE grades and topical agents.
"""

import base64
import datetime as dt
import hashlib
from html import escape

from django.utils import timezone

from patients.models import FitzpatrickType
from plans import rules
from plans.fhir.ids import (
    HL7_TERMINOLOGY,
    LOINC,
    SNOMED,
    UCUM,
    code_system,
    full_url,
    mrn_system,
    reference,
    resource_id,
)
from plans.models import PlanState
from plans.models.visits import MASI_REGIONS, SessionStatus
from plans.selectors.course import device_settings_rows

MELASMA = {"system": SNOMED, "code": "36209000", "display": "Melasma"}
FACE = {"system": SNOMED, "code": "89545001", "display": "Face structure"}

CAREPLAN_STATUS = {  # plan.state → CarePlan.status (request-status)
    PlanState.DRAFT: "draft",
    PlanState.ACTIVE: "active",
    PlanState.COMPLETED: "completed",
    PlanState.STOPPED: "revoked",
}
GENDER = {"F": "female", "M": "male", "X": "unknown"}  # "X" is "Other / not stated"
AE_OUTCOME = {"ongoing": "ongoing", "resolved": "resolved", "resolved_sequelae": "resolvedWithSequelae"}
MODALITY_LABELS = dict(rules.MODALITY_CHOICES)
AE_TYPE_LABELS = dict(rules.AE_TYPES)
REGION_CODES = {region: region.replace("_", "-") for region in MASI_REGIONS}  # right_malar → right-malar
MELASQOL_ITEMS = 10  # S6


# --- small pieces ------------------------------------------------------------------------------------------


def instant(moment: dt.datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def day(value: dt.date) -> str:
    return value.isoformat()


def staff_name(user) -> str:
    return user.get_full_name() or user.username


def practitioner_id(user) -> str:
    return resource_id("practitioner", user.pk)


def practitioner_ref(user) -> dict:
    return reference("Practitioner", practitioner_id(user), staff_name(user))


def patient_ref(patient) -> dict:
    return reference("Patient", resource_id("patient", patient.pk), patient.full_name)


def lot_device_id(lot) -> str:
    return resource_id("device-lot", lot.pk)


def lot_ref(lot) -> dict:
    return reference("Device", lot_device_id(lot), f"{lot.product.name} lot {lot.number}")


def procedure_id(session) -> str:
    return resource_id("procedure", session.pk)


def careplan_id(plan) -> str:
    return resource_id("careplan", plan.pk)


def condition_id(patient) -> str:
    return resource_id("condition-melasma", patient.pk)


def coding(system: str, code, display: str = "") -> dict:
    item = {"system": system, "code": str(code)}
    if display:
        item["display"] = display
    return item


def concept(*codings: dict, text: str = "") -> dict:
    value = {"coding": list(codings)} if codings else {}
    if text:
        value["text"] = text
    return value


def modality_concept(modality: str) -> dict:
    label = MODALITY_LABELS.get(modality, modality)
    return concept(coding(code_system("modality"), modality, label), text=label)


def score_concept(code: str, display: str) -> dict:
    return concept(coding(code_system("melasma-scores"), code, display), text=display)


def narrative(lines: list[str]) -> dict:
    """Human-readable text of a resource (FHIR's narrative), for fields R4 has no element for."""
    body = "".join(f"<p>{escape(line)}</p>" for line in lines if line)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body or "<p/>"}</div>'}


def entry(resource: dict) -> dict:
    return {"fullUrl": full_url(resource["resourceType"], resource["id"]), "resource": resource}


def device_settings_text(settings: dict) -> str:
    return "; ".join(f"{label}: {value}" for label, value in device_settings_rows(settings))


# --- resources ---------------------------------------------------------------------------------------------


def practitioner(user) -> dict:
    name = {"text": staff_name(user)}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    return {"resourceType": "Practitioner", "id": practitioner_id(user), "active": user.is_active, "name": [name]}


def patient_resource(patient) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": resource_id("patient", patient.pk),
        "identifier": [{
            "use": "usual",
            "type": concept(coding(f"{HL7_TERMINOLOGY}/v2-0203", "MR", "Medical record number")),
            "system": mrn_system(),
            "value": patient.mrn,
        }],
        "active": patient.archived_at is None,
        "name": [{"use": "official", "family": patient.last_name, "given": [patient.first_name]}],
        "gender": GENDER.get(patient.sex, "unknown"),
        "birthDate": day(patient.date_of_birth),
    }
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email and patient.email_consent:  # email only where the patient agreed to it
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    if patient.address:
        resource["address"] = [{"text": patient.address}]
    if patient.emergency_contact:
        resource["contact"] = [{
            "relationship": [concept(coding(f"{HL7_TERMINOLOGY}/v2-0131", "C", "Emergency Contact"))],
            "name": {"text": patient.emergency_contact},
        }]
    return resource


def melasma_condition(patient) -> dict:
    notes = []
    if patient.woods_lamp_type:
        notes.append(f"Wood's lamp: {patient.get_woods_lamp_type_display()}")
    triggers = [
        label for flag, label in (
            (patient.trigger_pregnancy, "onset with pregnancy"),
            (patient.trigger_hormonal_contraception, "onset with hormonal contraception"),
            (patient.trigger_sun, "worse with sun"),
        ) if flag
    ]
    if patient.trigger_other:
        triggers.append(patient.trigger_other)
    if triggers:
        notes.append("Triggers: " + "; ".join(triggers))
    resource = {
        "resourceType": "Condition",
        "id": condition_id(patient),
        "clinicalStatus": concept(coding(f"{HL7_TERMINOLOGY}/condition-clinical", "active", "Active")),
        "verificationStatus": concept(coding(f"{HL7_TERMINOLOGY}/condition-ver-status", "confirmed", "Confirmed")),
        "category": [concept(coding(f"{HL7_TERMINOLOGY}/condition-category", "problem-list-item", "Problem List Item"))],
        "code": concept(MELASMA, text="Melasma"),
        "bodySite": [concept(FACE)],
        "subject": patient_ref(patient),
    }
    if patient.melasma_onset_year:
        resource["onsetDateTime"] = f"{patient.melasma_onset_year:04d}"
    if patient.fitzpatrick_type:
        resource["evidence"] = [{"detail": [reference("Observation", resource_id("observation-fitzpatrick", patient.pk))]}]
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    return resource


def fitzpatrick_observation(patient) -> dict:
    label = FitzpatrickType(patient.fitzpatrick_type).label
    resource = {
        "resourceType": "Observation",
        "id": resource_id("observation-fitzpatrick", patient.pk),
        "status": "final",
        "category": [concept(coding(f"{HL7_TERMINOLOGY}/observation-category", "exam", "Exam"))],
        "code": score_concept("fitzpatrick-skin-type", "Fitzpatrick skin type"),
        "subject": patient_ref(patient),
        "valueCodeableConcept": concept(
            coding(code_system("fitzpatrick-skin-type"), patient.fitzpatrick_type, f"Type {label}"), text=f"Type {label}"
        ),
    }
    if patient.screening_confirmed_at:
        resource["effectiveDateTime"] = instant(patient.screening_confirmed_at)
    return resource


def lot_device(lot) -> dict:
    product = lot.product
    resource = {  # a lot is shared by many patients: no Device.patient
        "resourceType": "Device",
        "id": lot_device_id(lot),
        "status": "active",
        "manufacturer": product.manufacturer,
        "lotNumber": lot.number,
        "expirationDate": day(lot.expiry_date),
        "deviceName": [{"name": product.name, "type": "manufacturer-name"}],
        "type": concept(text=f"Exosome product ({product.get_source_display()}, {product.get_storage_format_display()})"),
    }
    notes = [f"Received {day(lot.received_on)}. Storage: {product.storage_rule}"]
    if lot.recalled_at:
        notes.append(f"Recalled {instant(lot.recalled_at)}: {lot.recall_reason}")
    resource["note"] = [{"text": text} for text in notes]
    return resource


def _session_status(session, plan, booked: set[int]) -> tuple[str, str]:
    """CarePlan activity status (and its reason) of a planned session."""
    if session is None or session.status == SessionStatus.PLANNED:
        if plan.state in (PlanState.COMPLETED, PlanState.STOPPED):
            return "stopped", ""
        number = session.number if session else None
        return ("scheduled" if number in booked else "not-started"), ""
    if session.status == SessionStatus.COMPLETED:
        return "completed", ""
    if session.status in (SessionStatus.SKIPPED, SessionStatus.CANCELLED):
        return "cancelled", f"{session.get_status_display()}: {session.closed_reason}"
    if session.status == SessionStatus.BLOCKED:
        return "on-hold", session.get_status_display()
    return "not-started", session.get_status_display()  # missed: may still be skipped or rebooked


def _window_activity(window, session, plan, booked: set[int]) -> dict:
    status, reason = _session_status(session, plan, booked)
    detail = {
        "kind": "ServiceRequest",
        "code": modality_concept(plan.modality),
        "status": status,
        "description": (
            f"Session {window.number} of {plan.sessions_planned}: target {day(window.target)}, "
            f"window {day(window.earliest)} to {day(window.latest)}"
        ),
        # The target date as the planned event; the window as its bounds.
        "scheduledTiming": {
            "event": [day(window.target)],
            "repeat": {"boundsPeriod": {"start": day(window.earliest), "end": day(window.latest)}},
        },
    }
    if reason:
        detail["statusReason"] = concept(text=reason)
    activity = {"detail": detail}
    if session is not None and session.status == SessionStatus.COMPLETED:
        activity["outcomeReference"] = [reference("Procedure", procedure_id(session))]
    return activity


def _adjunct_activity(adjunct, plan) -> dict:
    label = rules.AGENT_LABELS.get(adjunct.agent, adjunct.agent)
    parts = [p for p in (adjunct.strength, adjunct.frequency) if p]
    if adjunct.pause_days_before:
        parts.append(f"paused {adjunct.pause_days_before} days before each session")
    if adjunct.notes:
        parts.append(adjunct.notes)
    detail = {
        "kind": "MedicationRequest",
        "status": _regimen_status(plan),
        "productCodeableConcept": concept(coding(code_system("adjunct-agent"), adjunct.agent, label), text=label),
        "description": f"{label}: {', '.join(parts)}" if parts else label,
    }
    if adjunct.start_date or adjunct.stop_date:
        period = {}
        if adjunct.start_date:
            period["start"] = day(adjunct.start_date)
        if adjunct.stop_date:
            period["end"] = day(adjunct.stop_date)
        detail["scheduledPeriod"] = period
    return {"detail": detail}


def sun_protection_text(plan) -> str:
    parts = [f"SPF {plan.spf}"]
    if plan.broad_spectrum:
        parts.append("broad spectrum")
    if plan.tinted_iron_oxide:
        parts.append("tinted iron-oxide (visible light)")
    parts.append(f"reapply every {plan.reapply_hours} h")
    if plan.sun_notes:
        parts.append(plan.sun_notes)
    return "Sun protection: " + ", ".join(parts)


def _regimen_status(plan) -> str:
    return {
        PlanState.DRAFT: "not-started", PlanState.ACTIVE: "in-progress",
        PlanState.COMPLETED: "completed", PlanState.STOPPED: "stopped",
    }[plan.state]


def careplan(plan, timeline: dict, today: dt.date) -> dict:
    sessions = {s.number: s for s in plan.sessions.all()}
    booked = timeline.get("booked", set())
    activities = [_window_activity(w, sessions.get(w.number), plan, booked) for w in timeline["windows"]]
    for number, when in enumerate(timeline["followups"], start=1):
        activities.append({"detail": {
            "kind": "Appointment",
            "code": score_concept("follow-up-assessment", "Follow-up assessment"),
            "status": "not-started" if when >= today and plan.state != PlanState.STOPPED else "unknown",
            "description": f"Follow-up {number}: {day(when)}",
            "scheduledTiming": {"event": [day(when)]},
        }})
    activities += [_adjunct_activity(a, plan) for a in plan.adjuncts.all()]
    activities.append({"detail": {
        "status": _regimen_status(plan), "description": sun_protection_text(plan),
        "code": concept(text="Sun protection"),
    }})
    last = timeline["windows"][-1]
    end = timezone.localdate(plan.ended_at) if plan.ended_at else last.target
    resource = {
        "resourceType": "CarePlan",
        "id": careplan_id(plan),
        "status": CAREPLAN_STATUS[plan.state],
        "intent": "plan",
        "title": f"{MODALITY_LABELS.get(plan.modality, plan.modality)} course, {plan.sessions_planned} sessions "
                 f"every {plan.interval_days} days",
        "subject": patient_ref(plan.patient),
        "period": {"start": day(plan.start_date), "end": day(max(end, plan.start_date))},
        "created": instant(plan.created_at),
        "author": practitioner_ref(plan.created_by),
        "addresses": [reference("Condition", condition_id(plan.patient))],
        "activity": activities,
    }
    if plan.goals:
        resource["description"] = plan.goals
    notes = []
    if plan.device_name or plan.device_settings:
        notes.append(f"Device: {plan.device_name or 'not named'}. Settings: {device_settings_text(plan.device_settings)}")
    if plan.exosome_product:
        notes.append(f"Exosome product: {plan.exosome_product}")
    if plan.notes:
        notes.append(plan.notes)
    if plan.stop_reason:
        notes.append(f"Stopped: {plan.stop_reason}")
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    if plan.approved_by:
        resource["contributor"] = [practitioner_ref(plan.approved_by)]
    return resource


def _amendment_text(amendment) -> str:
    changes = "; ".join(
        f"{field.replace('_', ' ')}: {amendment.before.get(field)!s} → {amendment.after.get(field)!s}"
        for field in amendment.after
    )
    return f"Amended by {staff_name(amendment.by)}: {amendment.reason} ({changes})"


def procedure(session, plan) -> dict:
    modality = session.modality or plan.modality
    performed = session.performed_at or session.completed_at
    resource = {
        "resourceType": "Procedure",
        "id": procedure_id(session),
        "basedOn": [reference("CarePlan", careplan_id(plan))],
        "status": "completed",
        "code": modality_concept(modality),
        "subject": patient_ref(plan.patient),
        "performedDateTime": instant(performed),
        "reasonReference": [reference("Condition", condition_id(plan.patient))],
        "bodySite": [concept(FACE, text=f"Face: {session.zones}" if session.zones else "Face")],
    }
    if session.performed_by:
        resource["performer"] = [{"actor": practitioner_ref(session.performed_by)}]
    if session.device_name:
        resource["usedCode"] = [concept(text=session.device_name)]
    lot = session.exosome_lot
    if lot is not None:
        resource["focalDevice"] = [{
            "action": concept(text="Exosomes applied" + (f" {session.exosome_applied}" if session.exosome_applied else "")),
            "manipulated": lot_ref(lot),
        }]
        resource["usedReference"] = [lot_ref(lot)]
    notes = [{"text": f"Session {session.number} of {plan.sessions_planned}."}]
    if session.device_name or session.device_settings:
        notes.append({"text": f"Device: {session.device_name or 'not named'}. "
                              f"Settings: {device_settings_text(session.device_settings)}"})
    if lot is not None:
        volume = f"{session.exosome_volume_ml} mL" if session.exosome_volume_ml is not None else "volume not recorded"
        notes.append({"text": f"Exosomes: {lot.product.name} lot {lot.number}, {volume}"
                              + (f", applied {session.exosome_applied}" if session.exosome_applied else "")})
    for label, value in (("Zones", session.zones), ("Anaesthetic", session.anaesthetic), ("Notes", session.notes),
                         ("Outside its window because", session.out_of_window_reason)):
        if value:
            notes.append({"text": f"{label}: {value}"})
    for amendment in session.amendments.all():
        notes.append({"authorReference": practitioner_ref(amendment.by), "time": instant(amendment.at),
                      "text": _amendment_text(amendment)})
    resource["note"] = notes
    return resource


def _score_observation(assessment, *, kind: str, code: str, display: str, value, components: list[dict],
                       category: str) -> dict:
    resource = {
        "resourceType": "Observation",
        "id": resource_id(f"observation-{kind}", assessment.pk),
        "status": "final",
        "category": [concept(coding(f"{HL7_TERMINOLOGY}/observation-category", category, category.title()))],
        "code": score_concept(code, display),
        "subject": patient_ref(assessment.patient),
        "effectiveDateTime": day(assessment.taken_on),
        "issued": instant(assessment.created_at),
        "performer": [practitioner_ref(assessment.rater)],
        "valueQuantity": {"value": value, "unit": "score", "system": UCUM, "code": "{score}"},
        "bodySite": concept(FACE),
        "component": components,
        "note": [{"text": f"{assessment.get_kind_display()} assessment" + (f". {assessment.notes}" if assessment.notes else "")}],
    }
    if category == "survey":
        del resource["bodySite"]
    if assessment.plan_id:
        resource["basedOn"] = [reference("CarePlan", resource_id("careplan", assessment.plan_id))]
    if assessment.session_id:
        resource["partOf"] = [reference("Procedure", resource_id("procedure", assessment.session_id))]
    return resource


def _component(code: str, display: str, value: int) -> dict:
    return {"code": score_concept(code, display), "valueInteger": value}


def _region_components(assessment, parts) -> list[dict]:
    components = []
    for region in MASI_REGIONS:
        for part in parts:
            value = getattr(assessment, f"{region}_{part}")
            code = f"{REGION_CODES[region]}-{part}"
            components.append(_component(code, f"{region.replace('_', ' ').capitalize()} {part}", value))
    return components


def score_observations(assessment) -> list[dict]:
    """MASI (area, darkness, homogeneity per region, S1, S2), mMASI (area, darkness, S3), MELASQOL (S6)."""
    found = [
        _score_observation(
            assessment, kind="masi", code="masi", display="MASI", value=float(assessment.masi),
            components=_region_components(assessment, ("area", "darkness", "homogeneity")), category="exam",
        ),
        _score_observation(
            assessment, kind="mmasi", code="mmasi", display="mMASI", value=float(assessment.mmasi),
            components=_region_components(assessment, ("area", "darkness")), category="exam",
        ),
    ]
    if assessment.melasqol_total is not None:
        items = [
            _component(f"melasqol-item-{n}", f"MELASQOL item {n}", value)
            for n, value in enumerate(assessment.melasqol_items or [], start=1)
        ]
        found.append(_score_observation(
            assessment, kind="melasqol", code="melasqol", display="MELASQOL", value=assessment.melasqol_total,
            components=items, category="survey",
        ))
    return found


def severity_concept(grade: int) -> dict:
    """CTCAE grade (S74) → AdverseEvent.severity: 1 mild, 2 moderate, 3 and above severe; the exact grade kept
    as a second coding."""
    level = "mild" if grade <= 1 else "moderate" if grade == 2 else "severe"
    return concept(
        coding(f"{HL7_TERMINOLOGY}/adverse-event-severity", level, level.title()),
        coding(code_system("ctcae-grade"), grade, f"CTCAE grade {grade}"),
        text=f"CTCAE grade {grade} ({level})",
    )


def adverse_event(event) -> dict:
    label = AE_TYPE_LABELS.get(event.ae_type, event.ae_type)
    serious = ("serious", "Serious") if event.serious else ("non-serious", "Non-serious")
    resource = {
        "resourceType": "AdverseEvent",
        "id": resource_id("adverse-event", event.pk),
        "text": narrative([
            f"{label}, CTCAE grade {event.grade}{', serious' if event.serious else ''}, onset {day(event.onset_date)}.",
            event.description,
            f"Action taken: {event.action_taken}" if event.action_taken else "",
            f"Outcome: {event.get_outcome_display()}" + (f" on {day(event.resolved_on)}" if event.resolved_on else ""),
            f"Reported to the regulator {instant(event.reported_at)}" if event.reported_at else "",
            *(f"Note by {staff_name(n.by)}, {instant(n.at)}: {n.note}" for n in event.notes.all()),
        ]),
        "actuality": "actual",
        "event": concept(coding(code_system("adverse-event-type"), event.ae_type, label), text=label),
        "subject": patient_ref(event.patient),
        "date": day(event.onset_date),
        "recordedDate": instant(event.recorded_at),
        "seriousness": concept(coding(f"{HL7_TERMINOLOGY}/adverse-event-seriousness", *serious)),
        "severity": severity_concept(event.grade),
        "outcome": concept(coding(
            f"{HL7_TERMINOLOGY}/adverse-event-outcome", AE_OUTCOME[event.outcome], event.get_outcome_display()
        )),
        "recorder": practitioner_ref(event.recorded_by),
    }
    if event.reviewed_by:
        resource["contributor"] = [practitioner_ref(event.reviewed_by)]
    suspects = []
    if event.lot is not None:
        suspects.append({"instance": lot_ref(event.lot)})
    if event.session_id and event.session.status == SessionStatus.COMPLETED:
        suspects.append({"instance": reference("Procedure", procedure_id(event.session))})
    if suspects:
        resource["suspectEntity"] = suspects
    return resource


def consent(record, patient, base_uri: str) -> dict:
    text = record.text
    resource = {
        "resourceType": "Consent",
        "id": resource_id("consent", record.pk),
        "status": "active",
        "scope": concept(coding(f"{HL7_TERMINOLOGY}/consentscope", "treatment", "Treatment")),
        "category": [concept(coding(LOINC, "59284-0", "Patient Consent"))],
        "patient": patient_ref(patient),
        "dateTime": instant(record.signed_at),
        "performer": [patient_ref(patient), practitioner_ref(record.clinician)],
        # The consent text's kind and version: the policy the patient agreed to.
        "policy": [{"uri": f"{base_uri}/consent-text/{text.kind}/v{text.version}"}],
        "sourceAttachment": {
            "contentType": "text/plain; charset=utf-8",
            "language": "en",
            "data": base64.b64encode(text.body.encode()).decode(),
            "title": f"{text.title} (version {text.version}), signed by {record.patient_printed_name}; "
                     f"witness {record.witness_name}",
        },
        "provision": {
            "type": "permit",
            "code": [concept(text=f"{text.get_kind_display()}")],
            "data": [{"meaning": "related", "reference": reference("CarePlan", careplan_id(record.plan))}],
        },
    }
    return resource


def document_reference(sheet, session, patient, pdf: bytes) -> dict:
    versions = ", ".join(
        f"{key} v{value['version']}" + (f" ({value['modality']})" if value.get("modality") else "")
        for key, value in sorted((sheet.text_versions or {}).items())
    )
    return {
        "resourceType": "DocumentReference",
        "id": resource_id("aftercare-sheet", sheet.pk),
        "status": "current",
        "docStatus": "final",
        "type": concept(text="Aftercare instructions"),
        "subject": patient_ref(patient),
        "date": instant(sheet.created_at),
        "author": [practitioner_ref(sheet.created_by)],
        "description": f"Aftercare sheet for session {session.number}; text versions: {versions}",
        "content": [{"attachment": {
            "contentType": "application/pdf",
            "language": "en",
            "data": base64.b64encode(pdf).decode(),
            "size": len(pdf),
            "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode(),
            "title": f"Aftercare, session {session.number} ({sheet.content['session']['iso_date']})",
            "creation": instant(sheet.created_at),
        }}],
        "context": {"related": [reference("Procedure", procedure_id(session))]},
    }
