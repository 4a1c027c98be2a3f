"""The serious-AE reporting clock and kept reports (MoCRA: 15 business days, records kept 6 years, S58).

A reportable event (plans.rules.ae_is_reportable) gets a due date when recorded or corrected; a clinician
generates the pre-filled report (a PDF kept byte for byte with the facts it was built from) and records when
and how it was reported with the reference received, which closes the clock. Nothing here deletes anything."""

import hashlib
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone

from plans import rules
from plans.rules import outcomes as rules_outcomes
from plans.config import outcome_config
from plans.models import AdverseEvent, AdverseEventReport, ReportChannel, SessionStatus

ERR_NOT_REPORTABLE = "Only a serious or grade 3+ adverse event is reported to the regulator."
ERR_ALREADY_REPORTED = "This adverse event is already recorded as reported."
ERR_REPORTED_IN_FUTURE = "The report cannot be dated in the future."
ERR_REPORTED_BEFORE_LEARNED = "The report cannot be dated before the clinic learned of the event ({learned:%Y-%m-%d})."
ERR_UNKNOWN_CRITERION = "Unknown seriousness criterion {criterion!r}."
ERR_CHANNEL = "Choose how it was reported."
ERR_REFERENCE = "Enter the reference the regulator gave."


def report_clock_apply(event: AdverseEvent) -> None:
    """Set learned_on (default: today) and the report due date of a reportable event; clear the due date of
    one that is no longer reportable (a correction). The caller saves."""
    if event.learned_on is None:
        event.learned_on = timezone.localdate()
    if rules.ae_is_reportable(event.grade, event.serious):  # S74, S75, S58
        event.report_due_on = rules_outcomes.report_due_on(event.learned_on, outcome_config())  # S58
    else:
        event.report_due_on = None


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _report_content(event: AdverseEvent, criteria: list[str], by, number: int) -> dict:
    patient, lot, session = event.patient, event.lot, event.session
    plan = event.plan
    exposures = []
    if plan is not None:
        exposures = [
            timezone.localtime(s.performed_at).date().isoformat()
            for s in plan.sessions.filter(status=SessionStatus.COMPLETED, performed_at__isnull=False).order_by("performed_at")
            if timezone.localtime(s.performed_at).date() <= event.onset_date
        ]
    modality = (session.modality if session and session.modality else plan.modality if plan else "")
    criteria_labels = dict(rules_outcomes.SERIOUSNESS_CRITERIA)
    return {
        "number": number,
        "generated_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "clinic": {"name": settings.CLINIC_NAME, "address": settings.CLINIC_ADDRESS, "phone": settings.CLINIC_PHONE},
        "reporter": {"name": by.get_full_name() or by.username, "email": by.email},
        # No name: initials, age at onset and sex only.
        "patient": {
            "initials": f"{patient.first_name[:1]}{patient.last_name[:1]}".upper(),
            "age": _age_on(patient.date_of_birth, event.onset_date),
            "sex": patient.get_sex_display(),
        },
        "product": {
            "name": lot.product.name if lot else "",
            "manufacturer": lot.product.manufacturer if lot else "",
            "source": lot.product.get_source_display() if lot else "",
            "lot": lot.number if lot else "",
            "expiry": lot.expiry_date.isoformat() if lot else "",
        },
        "exposure": {
            "modality": dict(rules.MODALITY_CHOICES).get(modality, modality),
            "device": (session.device_name if session else "") or (plan.device_name if plan else ""),
            "delivery": ", ".join(filter(None, [
                session.get_exosome_delivery_display() if session and session.exosome_delivery else "",
                session.exosome_applied if session else "",
            ])) or "Not recorded",
            "dates": exposures,
        },
        "event": {
            "type": dict(rules.AE_TYPES).get(event.ae_type, event.ae_type),
            "onset": event.onset_date.isoformat(),
            "learned_on": event.learned_on.isoformat() if event.learned_on else "",
            "due_on": event.report_due_on.isoformat() if event.report_due_on else "",
            "description": event.description,
            "grade": event.grade,
            "grade_text": dict(rules.CTCAE_GRADES).get(event.grade, ""),
            "serious": event.serious,
            "criteria": [criteria_labels[c] for c in criteria],
            "treatment": event.action_taken,
            "outcome": event.get_outcome_display(),
            "resolved_on": event.resolved_on.isoformat() if event.resolved_on else "",
        },
    }


def report_pdf(content: dict) -> bytes:
    from weasyprint import HTML

    from clinic.pdf import url_fetcher

    html = render_to_string("plans/reporting/ae_report_pdf.html", {"c": content})
    return HTML(string=html, url_fetcher=url_fetcher("file")).write_pdf()


@transaction.atomic
def adverse_event_report_generate(*, event: AdverseEvent, criteria: list[str], by) -> AdverseEventReport:
    """Build and keep the pre-filled report: the PDF is stored as generated and served from the store ever
    after, so a later edit of a template or of the event never changes a report already made."""
    event = AdverseEvent.objects.select_for_update(of=("self",)).select_related(
        "patient", "plan", "session", "lot__product"
    ).get(pk=event.pk)
    if not rules.ae_is_reportable(event.grade, event.serious):
        raise ValidationError(ERR_NOT_REPORTABLE)
    known = {key for key, _ in rules_outcomes.SERIOUSNESS_CRITERIA}
    for criterion in criteria:
        if criterion not in known:
            raise ValidationError({"criteria": ERR_UNKNOWN_CRITERION.format(criterion=criterion)})
    number = (event.reports.aggregate(n=Max("number"))["n"] or 0) + 1
    content = _report_content(event, list(criteria), by, number)
    pdf = report_pdf(content)
    report = AdverseEventReport(
        event=event, number=number, content=content, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), created_by=by
    )
    report.full_clean()
    report.save()
    return report


@transaction.atomic
def adverse_event_mark_reported(*, event: AdverseEvent, reported_at: datetime, how: str, reference: str, by) -> AdverseEvent:
    """Record when and how the event was reported and the reference received: this closes the clock."""
    event = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    errors = {}
    if not rules.ae_is_reportable(event.grade, event.serious):
        raise ValidationError(ERR_NOT_REPORTABLE)
    if event.reported_at is not None:
        raise ValidationError(ERR_ALREADY_REPORTED)
    if how not in ReportChannel.values:
        errors["how"] = ERR_CHANNEL
    if not reference.strip():
        errors["reference"] = ERR_REFERENCE
    if reported_at > timezone.now():
        errors["reported_at"] = ERR_REPORTED_IN_FUTURE
    elif event.learned_on and timezone.localtime(reported_at).date() < event.learned_on:
        errors["reported_at"] = ERR_REPORTED_BEFORE_LEARNED.format(learned=event.learned_on)
    if errors:
        raise ValidationError(errors)
    event.reported_at = reported_at
    event.reported_how = how
    event.report_reference = reference.strip()
    event.reported_by = by
    event._history_user = by
    event.full_clean()
    event.save()
    return event
