"""One patient's record for the FHIR export, in a fixed number of queries whatever its size."""

import dataclasses
import datetime as dt

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from patients.models import Patient
from plans.models import (
    AdverseEvent,
    AdverseEventNote,
    Appointment,
    Assessment,
    Consent,
    Plan,
    SessionAmendment,
    TreatmentSession,
)
from plans.models.scheduling import LIVE_APPOINTMENT_STATUSES
from plans.models.visits import SessionStatus
from plans.selectors.course import course_timeline, plan_config


@dataclasses.dataclass
class PatientRecord:
    patient: Patient
    plans: list[Plan]  # .adjuncts, .consents, .sessions (with .amendments) prefetched
    timelines: dict[int, dict]  # plan id → plans.selectors.course.course_timeline(...)
    assessments: list[Assessment]
    adverse_events: list[AdverseEvent]  # .notes prefetched
    today: dt.date


def _local_date(moment):
    return timezone.localdate(moment) if moment else None


def _timeline(plan: Plan, appointments: list[Appointment]) -> dict:
    """The plan's windows as the plan page shows them (plans.selectors.course.plan_timeline), from rows already
    loaded for every plan at once."""
    sessions = {s.number: s for s in plan.sessions.all() if s.number <= plan.sessions_planned}
    performed = {
        number: _local_date(s.performed_at or s.completed_at)
        for number, s in sessions.items()
        if s.status == SessionStatus.COMPLETED and (s.performed_at or s.completed_at)
    }
    booked = {}
    for appointment in appointments:  # ordered by start: the first live booking of a session counts
        number = appointment.session.number
        if number <= plan.sessions_planned:
            booked.setdefault(number, _local_date(appointment.start))
    timeline = course_timeline(
        start=plan.start_date, sessions=plan.sessions_planned, interval_days=plan.interval_days,
        cfg=plan_config(plan), followup_months=plan.followup_months or [], performed=performed, booked=booked,
    )
    timeline["booked"] = set(booked)
    return timeline


def patient_record(patient_id: int, *, today: dt.date | None = None) -> PatientRecord:
    """Everything the Bundle holds for one patient: 10 queries, however many courses, sessions or scores."""
    records = patient_records([patient_id], today=today)
    if not records:
        raise Http404("No such patient.")
    return records[0]


def patient_records(patient_ids, *, today: dt.date | None = None) -> list[PatientRecord]:
    """The records of several patients (in the order of ``patient_ids``), in 10 queries for the lot: the bulk
    export reads a chunk of patients at a time."""
    ids = list(patient_ids)
    patients = Patient.objects.select_related("screening_confirmed_by").in_bulk(ids)
    sessions = TreatmentSession.objects.select_related(
        "exosome_lot__product", "performed_by", "closed_by", "aftercare_sheet__created_by"
    ).prefetch_related(
        Prefetch("amendments", queryset=SessionAmendment.objects.select_related("by").order_by("at", "id"))
    ).order_by("number")
    plans = (
        Plan.objects.filter(patient_id__in=ids)
        .select_related("exosome_product", "created_by", "approved_by")
        .prefetch_related(
            "adjuncts",
            Prefetch("consents", queryset=Consent.objects.select_related("text", "clinician").order_by("signed_at", "id")),
            Prefetch("sessions", queryset=sessions),
        )
        .order_by("start_date", "id")
    )
    live = (
        Appointment.objects.filter(session__plan__patient_id__in=ids, status__in=LIVE_APPOINTMENT_STATUSES)
        .select_related("session").order_by("start", "id")
    )
    assessments = Assessment.objects.filter(patient_id__in=ids).select_related("rater").order_by("taken_on", "id")
    adverse_events = (
        AdverseEvent.objects.filter(patient_id__in=ids)
        .select_related("lot__product", "recorded_by", "reviewed_by", "session")
        .prefetch_related(Prefetch("notes", queryset=AdverseEventNote.objects.select_related("by").order_by("at", "id")))
        .order_by("onset_date", "id")
    )
    by_patient = {pk: {"plans": [], "assessments": [], "adverse_events": []} for pk in patients}
    for plan in plans:
        by_patient[plan.patient_id]["plans"].append(plan)
    for assessment in assessments:
        by_patient[assessment.patient_id]["assessments"].append(assessment)
    for event in adverse_events:
        by_patient[event.patient_id]["adverse_events"].append(event)
    booked_by_plan: dict[int, list[Appointment]] = {}
    for appointment in live:
        booked_by_plan.setdefault(appointment.session.plan_id, []).append(appointment)
    today = today or timezone.localdate()
    return [
        PatientRecord(
            patient=patients[pk],
            plans=by_patient[pk]["plans"],
            timelines={plan.pk: _timeline(plan, booked_by_plan.get(plan.pk, [])) for plan in by_patient[pk]["plans"]},
            assessments=by_patient[pk]["assessments"],
            adverse_events=by_patient[pk]["adverse_events"],
            today=today,
        )
        for pk in ids if pk in patients
    ]
