"""The outcomes page: known answers from hand-built courses, small groups, period filter, CSV of aggregates
only, the permission ladder and a query count that does not grow with the number of patients."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse

from clinic.models import AccessLog
from plans.selectors import outcomes as selectors
from plans.services import visits as visit_services
from tests.factories import ExosomeProductFactory, PlanFactory, TreatmentSessionFactory
from tests.plans.outcomes_support import COMPONENTS, completed_courses

NOW = dt.datetime(2026, 11, 18, 11, 0, tzinfo=dt.UTC)
START = dt.date(2026, 1, 5)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _ten_courses(clinician):
    # 10 microneedling courses, baseline 10: end scores 2,3,4,5,5 (responders), 6,7,8,9,11 (not).
    # Responders relapse at 3 months when fu3 ≥ 5: two of the five do.
    ends = [2, 3, 4, 5, 5, 6, 7, 8, 9, 11]
    fu3 = [2, 6, 4, 5, None, 7, 8, 8, 9, 11]
    specs = [
        {"baseline": 10, "end": e, "fu3": f, "fitzpatrick": 2 if i < 6 else 5, "hq": i % 2 == 0}
        for i, (e, f) in enumerate(zip(ends, fu3, strict=True))
    ]
    # Three NAFL courses: a group under the minimum size of 5.
    specs += [{"baseline": 8, "end": 2, "modality": "nafl", "fitzpatrick": 3}] * 3
    return completed_courses(specs, rater=clinician, start=START, product=ExosomeProductFactory(name="ExoA"))


def test_known_responder_rate_interval_and_median(clinician):
    _ten_courses(clinician)
    report = selectors.outcomes_report(selectors.course_scores())
    end = report["overall"][0]["outcome"]
    # 13 courses: 5 MN responders + 3 NAFL responders = 8 of 13.
    assert (end.courses, end.scored, end.responders) == (13, 13, 8)
    assert end.responder_rate.low == pytest.approx(0.3551, abs=5e-4)
    assert end.responder_rate.high == pytest.approx(0.8228, abs=5e-4)
    modality = {row["group"]: row for row in report["breakdowns"][0]["rows"]}
    mn = modality["Microneedling"]["outcome"]
    assert (mn.scored, mn.responders, mn.suppressed) == (10, 5, False)
    assert mn.median_change == -45.0  # changes -80 -70 -60 -50 -50 | -40 -30 -20 -10 +10
    nafl = modality["Non-ablative fractional laser"]["outcome"]
    assert nafl.suppressed and nafl.responder_rate is None and nafl.responders == 3
    # Relapse among the five MN responders with a follow-up (4: one has none): 3 → 6 and 5 → 5 relapse.
    relapse = modality["Microneedling"]["relapse"]
    assert (relapse["eligible"], relapse["relapsed"], relapse["suppressed"]) == (4, 2, True)
    overall_relapse = report["relapse"]
    assert (overall_relapse["eligible"], overall_relapse["relapsed"]) == (4, 2)
    fitz = {row["group"]: row["outcome"] for row in report["breakdowns"][2]["rows"]}
    assert (fitz["I–III"].scored, fitz["IV–VI"].scored) == (9, 4)


def test_courses_without_baseline_or_not_completed_are_left_out(clinician):
    completed_courses(
        [{"baseline": None, "end": 3}, {"baseline": 10, "end": 3, "state": "active"}, {"baseline": 10, "end": 3}],
        rater=clinician, start=START,
    )
    assert len(selectors.course_scores()) == 1


def test_empty_clinic_page_says_so(clinician_client):
    response = clinician_client.get(reverse("plans:outcomes"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "0 completed courses" in body and "Not enough scored courses for a chart yet" in body


def test_period_filter_by_course_start(clinician, clinician_client):
    completed_courses([{"baseline": 10, "end": 3, "start": dt.date(2025, 6, 2)}], rater=clinician, start=START)
    completed_courses([{"baseline": 10, "end": 3}] * 2, rater=clinician, start=START)
    response = clinician_client.get(reverse("plans:outcomes"), {"started_from": "2026-01-01", "started_to": "2026-01-31"})
    assert response.context["report"]["course_count"] == 2
    bad = clinician_client.get(reverse("plans:outcomes"), {"started_from": "2026-02-01", "started_to": "2026-01-01"})
    assert bad.status_code == 200 and "must be before its end" in bad.content.decode()


def test_page_shows_rates_and_svg_charts_without_javascript(clinician, clinician_client):
    _ten_courses(clinician)
    response = clinician_client.get(reverse("plans:outcomes"))
    body = response.content.decode()
    assert "62 % (36–82 %)" in body  # 8 of 13 at the end of course
    assert '<svg viewBox="0 0 640 280"' in body and 'id="forest-chart"' in body
    assert "Microneedling (n=10)" in body
    assert "too few for a rate" in body
    assert "<script" not in body.split('id="response-chart"')[1].split("</svg>")[0]
    assert "Patient0" not in body and "OUT000" not in body  # no patient names or MRNs on an aggregates page


def test_csv_is_the_aggregated_table_only(clinician, manager_client):
    plans = _ten_courses(clinician)
    response = manager_client.get(reverse("plans:outcomes_csv"))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:6] == ["section", "group", "time point", "courses", "scored", "responders"]
    by_group = {(row[0], row[1], row[2]): row for row in rows[1:]}
    assert by_group[("All courses", "All", "End of course")][3:9] == ["13", "13", "8", "61.5", "35.5", "82.3"]
    assert by_group[("Modality", "Non-ablative fractional laser", "End of course")][6] == ""  # suppressed
    assert by_group[("Modality", "Microneedling", "End of course")][9] == "-45.0"  # a number, not text
    text = response.content.decode()
    for plan in plans[:3]:
        assert plan.patient.mrn not in text and plan.patient.last_name not in text


def test_aggregates_page_writes_no_access_log(clinician, clinician_client):
    _ten_courses(clinician)
    clinician_client.get(reverse("plans:outcomes"))
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize("name", ["plans:outcomes", "plans:outcomes_csv"])
def test_permission_ladder(role_clients, name):
    url = reverse(name)
    assert role_clients["anonymous"].get(url).status_code == 302
    assert role_clients["front_desk"].get(url).status_code == 403
    assert role_clients["clinician"].get(url).status_code == 200
    assert role_clients["manager"].get(url).status_code == 200


@pytest.mark.parametrize("patients", [1_000, 10_000])
def test_query_count_flat_at_1000_and_10000_patients(clinician, clinician_client, django_assert_max_num_queries, patients):
    # One session and two scores per course (a follow-up for one in ten) keeps 10,000 courses quick to build.
    specs = [
        {"baseline": 10, "end": 2 + i % 9, "fu3": 4 + i % 6 if i % 10 == 0 else None, "sessions": 1,
         "modality": ("microneedling", "nafl", "rf_microneedling")[i % 3], "fitzpatrick": 1 + i % 6, "hq": i % 2 == 0}
        for i in range(patients)
    ]
    completed_courses(specs, rater=clinician, start=START)
    with django_assert_max_num_queries(8):  # session, user, permissions, page-cache version …, one report query
        response = clinician_client.get(reverse("plans:outcomes"))
    assert response.context["report"]["course_count"] == patients


def test_follow_up_recorded_through_the_service_is_tagged_with_its_month(clinician):
    plan = PlanFactory(state="completed", followup_months=[1, 3, 6])
    TreatmentSessionFactory(plan=plan, number=1, status="completed",
                            performed_at=dt.datetime(2026, 8, 3, 10, tzinfo=dt.UTC))
    fu = visit_services.assessment_record(
        plan=plan, kind="follow_up", taken_on=dt.date(2026, 11, 5), components=COMPONENTS, by=clinician
    )
    other = visit_services.assessment_record(
        plan=plan, kind="follow_up", taken_on=dt.date(2026, 10, 1), components=COMPONENTS, by=clinician
    )
    assert (fu.followup_month, other.followup_month) == (3, None)
