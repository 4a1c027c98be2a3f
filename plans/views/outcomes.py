"""The outcomes page and its CSV: aggregates only, never a patient row.

Not written to the access log: the page shows no patient's data, only counts and rates over groups (groups
under the minimum size show counts without rates), and the log records who saw which patient's record."""

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from clinic.http import csv_cell, require_perm
from plans.forms.outcomes import CourseStartPeriodForm
from plans.selectors import outcomes as selectors


def _report(request):
    require_perm(request, "plans.view_outcomes")
    form = CourseStartPeriodForm(request.GET or None)
    period = form.cleaned_data if form.is_valid() else {}
    courses = selectors.course_scores(started_from=period.get("started_from"), started_to=period.get("started_to"))
    return form, selectors.outcomes_report(courses)


def outcomes(request):
    form, report = _report(request)
    query = request.GET.urlencode() if form.is_bound and form.is_valid() else ""
    return render(request, "plans/outcomes/outcomes.html", {"form": form, "report": report, "query": query})


def outcomes_csv(request):
    _, report = _report(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{timezone.localdate():%Y%m%d}.csv"'
    response["Cache-Control"] = "private, no-store"
    # Labels (a product's name is typed by staff) are kept as text; the numbers, negative ones too, stay numbers.
    rows = selectors.outcomes_csv_rows(report)
    csv.writer(response).writerows([[csv_cell(v) for v in row[:3]] + row[3:] for row in rows])
    return response


urlpatterns = [
    path("outcomes/", outcomes, name="outcomes"),
    path("outcomes/export.csv", outcomes_csv, name="outcomes_csv"),
]
