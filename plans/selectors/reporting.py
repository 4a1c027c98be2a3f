"""Reads of the reporting clock (S58): an event's reporting card, the reports-due dashboard panel and the
inspector's export of a period (CSV and every kept report PDF in one ZIP)."""

import csv
import io
import zipfile
from datetime import date

from django.utils import timezone

from clinic.http import csv_cell
from clinic.selectors import register_panel
from plans.rules import outcomes as rules_outcomes
from plans.config import outcome_config
from plans.models import AdverseEvent, AdverseEventReport
from plans.selectors import visits as visit_selectors

DASHBOARD_REPORTS_LIMIT = 10


def reporting_context(event: AdverseEvent) -> dict:
    """The event's clock and its kept reports (without their PDF bytes); one query."""
    today = timezone.localdate()
    reports = list(event.reports.defer("pdf").select_related("created_by").order_by("number"))
    left = None
    if event.report_due_on and event.reported_at is None and today <= event.report_due_on:
        left = rules_outcomes.business_days_between(today, event.report_due_on, outcome_config().holidays)
    return {
        "kept_reports": reports,
        "business_days_left": left,
        "seriousness_criteria": rules_outcomes.SERIOUSNESS_CRITERIA,
    }


def reports_due(user) -> dict | None:
    """Reportable events not yet reported, soonest due first, with the number overdue: 2 queries."""
    if not user.has_perm("plans.view_adverseevent"):
        return None
    today = timezone.localdate()
    waiting = AdverseEvent.objects.filter(report_due_on__isnull=False, reported_at__isnull=True)
    return {
        "reports_due": list(waiting.select_related("patient").order_by("report_due_on", "id")[:DASHBOARD_REPORTS_LIMIT]),
        # Same as AdverseEvent.report_overdue (rules_outcomes.report_is_overdue): due date passed, not reported.
        "reports_overdue_count": waiting.filter(report_due_on__lt=today).count(),
    }


register_panel("plans/reporting/includes/dashboard_reports_due.html", reports_due)


INSPECTOR_CSV_COLUMNS = [
    "event id", "patient MRN", "learned on", "onset", "type", "CTCAE grade", "serious", "reportable", "report due",
    "reported at", "reported how", "reference", "outcome", "resolved on", "product", "manufacturer", "lot",
    "lot expiry", "session", "description", "action taken", "kept reports",
]


def inspector_export(*, date_from: date | None, date_to: date | None) -> tuple[bytes, list[int]]:
    """A ZIP of every adverse event with onset in the period (CSV) and every report kept for them (PDF, as
    generated). Returns the ZIP and the patients it names, for the access log. Three queries."""
    rows = visit_selectors.adverse_events_report(date_from=date_from, date_to=date_to)
    events = [row["event"] for row in rows]
    reports = list(AdverseEventReport.objects.filter(event__in=events).order_by("event_id", "number"))
    by_event: dict[int, list] = {}
    for report in reports:
        by_event.setdefault(report.event_id, []).append(report)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(INSPECTOR_CSV_COLUMNS)
        for row in rows:
            e, lot = row["event"], row["event"].lot
            kept = by_event.get(e.pk, [])
            writer.writerow([csv_cell(v) for v in [
                e.pk, e.patient.mrn, e.learned_on or "", e.onset_date.isoformat(), row["type_label"], e.grade,
                "yes" if e.serious else "no", "yes" if row["reportable"] else "no", e.report_due_on or "",
                timezone.localtime(e.reported_at).strftime("%Y-%m-%d %H:%M") if e.reported_at else "",
                e.get_reported_how_display(), e.report_reference, e.get_outcome_display(), e.resolved_on or "",
                lot.product.name if lot else "", lot.product.manufacturer if lot else "", lot.number if lot else "",
                lot.expiry_date.isoformat() if lot else "", e.session.number if e.session else "",
                e.description, e.action_taken, " ".join(_report_name(r) for r in kept),
            ]])
        archive.writestr("adverse-events.csv", text.getvalue())
        for report in reports:
            archive.writestr(f"reports/{_report_name(report)}", bytes(report.pdf))
    return buffer.getvalue(), sorted({e.patient_id for e in events})


def _report_name(report: AdverseEventReport) -> str:
    return f"ae-{report.event_id}-report-{report.number}.pdf"
