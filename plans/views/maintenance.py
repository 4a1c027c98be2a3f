"""The front desk's recall list: patients due a follow-up after their course, or flagged for a maintenance
discussion (§9), with contact details and the last reminder sent.

A working list like the day schedule (names, contact details and why to call, no scores), so not written to the
access log; the record it leads to is logged when opened."""

from django.shortcuts import render
from django.urls import path

from clinic.http import require_perm
from plans.selectors import maintenance as selectors


def recall_list(request):
    require_perm(request, "plans.view_appointment")
    return render(request, "plans/maintenance/recall_list.html", {"recalls": selectors.recall_list()})


urlpatterns = [path("recalls/", recall_list, name="recalls")]
