"""The serious-AE reporting clock (S58): generate and keep a report, serve a kept report, record that it was
reported, and the inspector's ZIP of a period (managers)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.http import require_perm
from clinic.services import access_log_record
from plans.forms import reporting as forms
from plans.forms.visits import PeriodForm
from plans.models import AdverseEventReport
from plans.selectors import reporting as selectors
from plans.services import reporting as services
from plans.views.visits import adverse_event_for_change


@require_POST
def report_generate(request, event_id):
    event = adverse_event_for_change(request, event_id)
    form = forms.ReportGenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("plans:adverse_event", event.pk)
    try:
        report = services.adverse_event_report_generate(event=event, criteria=form.cleaned_data["criteria"], by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Report {report.number} generated and kept. Send it, then record how it was reported.")
    return redirect("plans:adverse_event", event.pk)


def report_pdf(request, report_id):
    require_perm(request, "plans.view_adverseevent")
    report = get_object_or_404(AdverseEventReport.objects.select_related("event"), pk=report_id)
    access_log_record(user=request.user, patients=[report.event.patient_id], path=request.path)
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="ae-{report.event_id}-report-{report.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def mark_reported(request, event_id):
    event = adverse_event_for_change(request, event_id)
    form = forms.MarkReportedForm(request.POST)
    if form.is_valid():
        try:
            services.adverse_event_mark_reported(
                event=event, reported_at=form.cleaned_data["reported_at"], how=form.cleaned_data["how"],
                reference=form.cleaned_data["reference"], by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Recorded as reported: the reporting clock is closed.")
            return redirect("plans:adverse_event", event.pk)
    else:
        messages.error(request, " ".join(f"{form.fields[name].label}: {e}" for name, errs in form.errors.items() for e in errs))
    return redirect("plans:adverse_event", event.pk)


def inspector_export(request):
    """Every adverse event of the period and every kept report, for an inspector (records kept 6 years, S58)."""
    require_perm(request, "plans.export_adverseevents")
    form = PeriodForm(request.GET or None)
    period = form.cleaned_data if form.is_valid() else {}
    archive, patient_ids = selectors.inspector_export(date_from=period.get("date_from"), date_to=period.get("date_to"))
    access_log_record(user=request.user, patients=patient_ids, path=request.path)
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="adverse-events-inspection-{timezone.localdate():%Y%m%d}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


def detail_context(event, user) -> dict:
    """What the event page shows of the reporting clock (the visits view adds it)."""
    context = selectors.reporting_context(event)
    if user.has_perm("plans.change_adverseevent"):
        context["report_form"] = forms.ReportGenerateForm(action=reverse("plans:adverse_event_report_new", args=[event.pk]))
        context["reported_form"] = forms.MarkReportedForm(
            action=reverse("plans:adverse_event_reported", args=[event.pk]),
            initial={"reported_at": timezone.localtime().replace(second=0, microsecond=0)},
        )
    return context


urlpatterns = [
    path("adverse-events/<int:event_id>/reports/new/", report_generate, name="adverse_event_report_new"),
    path("adverse-events/<int:event_id>/reported/", mark_reported, name="adverse_event_reported"),
    path("adverse-events/reports/<int:report_id>.pdf", report_pdf, name="adverse_event_report_pdf"),
    path("adverse-events/inspector-export.zip", inspector_export, name="adverse_events_inspector_export"),
]
