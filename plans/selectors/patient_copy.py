"""Everything held about one patient, read for the patient's own copy of their record (issue 15 §3).

The FHIR record (plans.fhir.selectors.patient_record: courses, sessions and amendments, consents with their
texts, scores, adverse events with notes, aftercare sheets as issued) plus what the Bundle leaves out: photos,
pre-session checks, appointments, the changes made to the patient's details, who opened the record, and the
copies produced before. A fixed number of queries whatever the size of the record (COPY_QUERIES).
"""

import dataclasses
import datetime as dt
from itertools import groupby

from django.utils import timezone
from django.utils.formats import date_format

from clinic.models import AccessLog
from clinic.selectors import access_log_entries
from patients.models import CLINICAL_FIELDS, DEMOGRAPHIC_FIELDS, SCREENING_FIELDS, Patient
from plans import rules
from plans.fhir.selectors import PatientRecord, patient_record
from plans.models import Appointment, AftercareSheet, PatientCopy, Photo, PreSessionCheck, SessionStatus
from plans.selectors.visits import device_settings_rows, trend_chart

# patient_record's 10, then photos, pre-session checks, appointments, the patient's change history, the access
# log and the earlier copies: one each.
COPY_QUERIES = 16

# Patient columns that are bookkeeping, not something recorded about the patient.
_NOT_SHOWN_IN_CHANGES = {"id", "phone_digits", "created_at", "updated_at", "screening_confirmed_by"}


@dataclasses.dataclass
class PatientCopyData:
    record: PatientRecord
    demographics: list[tuple[str, str]]
    melasma_history: list[tuple[str, str]]
    screening: list[tuple[str, str]]
    changes: list[dict]  # {"at", "by", "what": "created"/"changed", "changes": [(label, old, new)]}
    courses: list[dict]  # per plan: plan, timeline, sessions (with device_rows, checks, changes), consents, trend
    checks: list[dict]  # every pre-session check, oldest first: {"check", "plan", "session"}
    consents: list[dict]  # every consent signed, in course order: {"consent", "plan"}
    lots: list[dict]  # every product lot used on the patient or named in an adverse event, with the dates used
    unlinked_scores: dict | None  # the trend chart of assessments not tied to a course
    photos: list[Photo]
    appointments: list[Appointment]
    adverse_events: list  # record.adverse_events with .type_label
    aftercare_sheets: list[AftercareSheet]
    access_summary: list[dict]  # one row per day and staff member, newest first
    access_log: list[AccessLog]  # every row, newest first
    earlier_copies: list[PatientCopy]


def _display(patient: Patient, name: str) -> str:
    field = Patient._meta.get_field(name)
    return _value_text(field, getattr(patient, name))


def _value_text(field, value) -> str:
    if value is None or value == "":
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return date_format(timezone.localtime(value), "j M Y H:i")
    if isinstance(value, dt.date):
        return date_format(value, "j M Y")
    return str(value)


def _label(name: str) -> str:
    verbose = str(Patient._meta.get_field(name).verbose_name)
    return verbose[:1].upper() + verbose[1:]


def _rows(patient: Patient, names) -> list[tuple[str, str]]:
    return [(_label(name), _display(patient, name)) for name in names]


def patient_changes(history: list) -> list[dict]:
    """Every recorded version of the patient's details, oldest first: who created or changed them, when, and
    which values changed (django-simple-history rows, diffed in memory)."""
    entries = []
    for older, newer in zip([None] + history[:-1], history):
        if older is None:
            entries.append({"at": newer.history_date, "by": newer.history_user, "what": "created", "changes": []})
            continue
        delta = newer.diff_against(older, excluded_fields=_NOT_SHOWN_IN_CHANGES)
        changes = [
            (_label(change.field), _value_text(Patient._meta.get_field(change.field), change.old),
             _value_text(Patient._meta.get_field(change.field), change.new))
            for change in delta.changes
        ]
        if changes:
            entries.append({"at": newer.history_date, "by": newer.history_user, "what": "changed", "changes": changes})
    return entries


def _amendment_value(key: str, value):
    """A value as the amendment stored it (plans.services.visits.session_snapshot), for reading."""
    if key == "device_settings" and isinstance(value, dict):
        return "; ".join(f"{label} {setting}" for label, setting in device_settings_rows(value)) or "—"
    if isinstance(value, dict) and "label" in value:  # a lot or a member of staff
        return value["label"]
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value or "—"
        if moment.tzinfo is not None:
            return date_format(timezone.localtime(moment), "j M Y H:i")
    return "—" if value in (None, "", {}) else str(value)


def _amendment_changes(amendment) -> list[tuple[str, str, str]]:
    """(what, before, after) for each value the amendment changed; the same instant written in two time zones
    is not a change."""
    rows = []
    for key in dict.fromkeys([*amendment.before, *amendment.after]):
        before = _amendment_value(key, amendment.before.get(key))
        after = _amendment_value(key, amendment.after.get(key))
        if before != after:
            rows.append((key.replace("_", " ").capitalize(), before, after))
    return rows


def _courses(record: PatientRecord, checks_by_session: dict[int, list]) -> list[dict]:
    courses = []
    for plan in record.plans:
        sessions = sorted(plan.sessions.all(), key=lambda session: session.number)
        for session in sessions:
            session.device_rows = device_settings_rows(session.device_settings)
            session.checks_taken = checks_by_session.get(session.pk, [])
            session.amendment_rows = [
                {"amendment": amendment, "changes": _amendment_changes(amendment)} for amendment in session.amendments.all()
            ]
        courses.append({
            "plan": plan,
            "timeline": record.timelines[plan.pk],
            "device_rows": device_settings_rows(plan.device_settings),
            "sessions": sessions,
            "consents": list(plan.consents.all()),
            "adjuncts": list(plan.adjuncts.all()),
            "trend": trend_chart([a for a in record.assessments if a.plan_id == plan.pk]),
        })
    return courses


def _lots(courses: list[dict], adverse_events: list) -> list[dict]:
    lots: dict[int, dict] = {}
    for course in courses:
        for session in course["sessions"]:
            if session.status == SessionStatus.COMPLETED and session.exosome_lot is not None:
                row = lots.setdefault(session.exosome_lot.pk, {"lot": session.exosome_lot, "used_on": [], "events": []})
                row["used_on"].append(session.performed_at or session.completed_at)
    for event in adverse_events:
        if event.lot is not None:
            lots.setdefault(event.lot.pk, {"lot": event.lot, "used_on": [], "events": []})["events"].append(event)
    return sorted(lots.values(), key=lambda row: (row["lot"].product.name, row["lot"].number))


def access_summary(entries: list[AccessLog]) -> list[dict]:
    """One row per clinic day and staff member: how many times they opened the record, first and last time."""
    def key(entry):
        return timezone.localdate(entry.at), entry.user_id

    rows = []
    for (day, _user), group in groupby(sorted(entries, key=lambda e: (key(e), e.at), reverse=True), key=key):
        group = list(group)
        rows.append({"day": day, "user": group[0].user, "count": len(group), "first": group[-1].at, "last": group[0].at})
    return rows


def patient_copy_data(patient_id: int, *, today: dt.date | None = None) -> PatientCopyData:
    """Everything the patient's copy shows, in COPY_QUERIES queries; 404 for an unknown patient."""
    record = patient_record(patient_id, today=today)
    patient = record.patient
    photos = list(
        Photo.objects.filter(patient_id=patient.pk).select_related("session__plan", "uploaded_by").order_by("taken_on", "id")
    )
    checks_by_session: dict[int, list] = {}
    for check in PreSessionCheck.objects.filter(session__plan__patient_id=patient.pk).select_related("by").order_by("at", "id"):
        checks_by_session.setdefault(check.session_id, []).append(check)
    appointments = list(
        Appointment.objects.filter(patient_id=patient.pk).select_related("clinician", "room").order_by("start", "id")
    )
    history = list(patient.history.select_related("history_user").order_by("history_date", "history_id"))
    access_log = list(access_log_entries(patient=patient))
    earlier_copies = list(PatientCopy.objects.filter(patient_id=patient.pk).select_related("produced_by"))

    labels = dict(rules.AE_TYPES)
    for event in record.adverse_events:
        event.type_label = labels.get(event.ae_type, event.ae_type)
    courses = _courses(record, checks_by_session)
    sheets = [
        sheet
        for course in courses for session in course["sessions"]
        if session.status == SessionStatus.COMPLETED and (sheet := getattr(session, "aftercare_sheet", None)) is not None
    ]
    return PatientCopyData(
        record=record,
        demographics=_rows(patient, DEMOGRAPHIC_FIELDS),
        melasma_history=_rows(patient, CLINICAL_FIELDS),
        screening=_rows(patient, SCREENING_FIELDS),
        changes=patient_changes(history),
        courses=courses,
        checks=sorted(
            ({"check": check, "plan": course["plan"], "session": session}
             for course in courses for session in course["sessions"] for check in session.checks_taken),
            key=lambda row: (row["check"].at, row["check"].pk),
        ),
        consents=[{"consent": consent, "plan": course["plan"]} for course in courses for consent in course["consents"]],
        lots=_lots(courses, record.adverse_events),
        unlinked_scores=trend_chart([a for a in record.assessments if a.plan_id is None]),
        photos=photos,
        appointments=appointments,
        adverse_events=record.adverse_events,
        aftercare_sheets=sheets,
        access_summary=access_summary(access_log),
        access_log=access_log,
        earlier_copies=earlier_copies,
    )
