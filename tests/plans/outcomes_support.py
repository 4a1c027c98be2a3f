"""Build completed courses with chosen mMASI scores quickly (bulk inserts), for the outcomes tests."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from patients.models import Patient
from plans.models import Assessment, Plan, PlanAdjunct, TreatmentSession

COMPONENTS = {
    f"{region}_{part}": 1
    for region in ("forehead", "right_malar", "left_malar", "chin")
    for part in ("area", "darkness", "homogeneity")
}


def completed_courses(specs, *, rater, start: dt.date, product=None, mrn_prefix="OUT") -> list[Plan]:
    """specs: dicts with baseline, end, fu1, fu3, fu6 (mMASI or None), modality, fitzpatrick, hq, oral_txa,
    sessions. One bulk insert per table, whatever the number of courses."""
    offset = Patient.objects.count()
    patients = Patient.objects.bulk_create([
        Patient(mrn=f"{mrn_prefix}{offset + i:07d}", first_name="Test", last_name=f"Patient{offset + i}",
                date_of_birth=dt.date(1985, 1, 1), fitzpatrick_type=spec.get("fitzpatrick", 3))
        for i, spec in enumerate(specs)
    ])
    plans = Plan.objects.bulk_create([
        Plan(patient=patient, modality=spec.get("modality", "microneedling"), start_date=spec.get("start", start),
             exosome_product=product, state=spec.get("state", "completed"), created_by=rater,
             followup_months=[1, 3, 6])
        for patient, spec in zip(patients, specs, strict=True)
    ])
    sessions, assessments, adjuncts = [], [], []
    for plan, spec in zip(plans, specs, strict=True):
        begin = spec.get("start", start)
        count = spec.get("sessions", 4)
        for number in range(1, count + 1):
            day = begin + dt.timedelta(days=28 * (number - 1))
            sessions.append(TreatmentSession(
                plan=plan, number=number, status="completed", modality=plan.modality,
                performed_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
            ))
        last = begin + dt.timedelta(days=28 * (count - 1))

        def score(kind, value, day, month=None, plan=plan):
            if value is not None:
                assessments.append(Assessment(
                    patient_id=plan.patient_id, plan=plan, kind=kind, taken_on=day, rater=rater,
                    masi=Decimal(str(value)) * 2, mmasi=Decimal(str(value)), followup_month=month, **COMPONENTS,
                ))

        score("baseline", spec.get("baseline"), begin)
        score("pre_session", spec.get("end"), last)
        for month in (1, 3, 6):
            score("follow_up", spec.get(f"fu{month}"), last + dt.timedelta(days=30 * month), month)
        if spec.get("hq"):
            adjuncts.append(PlanAdjunct(plan=plan, agent="hydroquinone"))
        if spec.get("oral_txa"):
            adjuncts.append(PlanAdjunct(plan=plan, agent="txa_oral"))
    TreatmentSession.objects.bulk_create(sessions)
    Assessment.objects.bulk_create(assessments)
    PlanAdjunct.objects.bulk_create(adjuncts)
    return plans
