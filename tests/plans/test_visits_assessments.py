"""MASI / mMASI / MELASQOL computed by the service, the trend chart and the panels on other pages."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clinic.selectors import dashboard_context
from plans import rules
from plans.models import Assessment
from plans.selectors import panels_for
from plans.selectors import visits as selectors
from plans.services import visits as services
from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    PatientFactory,
    PlanFactory,
    TreatmentSessionFactory,
    UserFactory,
)

REGIONS = rules.MASI_REGIONS


def components(forehead, right_malar, left_malar, chin) -> dict:
    values = {}
    for region, (a, d, h) in zip(REGIONS, (forehead, right_malar, left_malar, chin), strict=True):
        values |= {f"{region}_area": a, f"{region}_darkness": d, f"{region}_homogeneity": h}
    return values


# (forehead, right malar, left malar, chin) as (area, darkness, homogeneity); MASI and mMASI by hand (S1, S3)
HAND_COMPUTED = [
    pytest.param(((0, 0, 0),) * 4, "0.0", "0.0", id="clear"),
    # 0.3·6·(4+4)·3 + 0.1·6·(4+4) = 43.2 + 4.8 = 48 ; 0.3·6·4·3 + 0.1·6·4 = 21.6 + 2.4 = 24
    pytest.param(((6, 4, 4),) * 4, "48.0", "24.0", id="maximum"),
    # 0.3·3·4 + 0.3·4·5 + 0.3·4·5 + 0.1·1·2 = 3.6 + 6 + 6 + 0.2 ; 1.8 + 3.6 + 3.6 + 0.1
    pytest.param(((3, 2, 2), (4, 3, 2), (4, 3, 2), (1, 1, 1)), "15.8", "9.1", id="typical"),
    # 0.3·2·4 + 0 + 0.3·5·3 + 0.1·6·4 = 2.4 + 4.5 + 2.4 ; 0.6 + 0 + 3.0 + 2.4
    pytest.param(((2, 1, 3), (0, 4, 4), (5, 2, 1), (6, 4, 0)), "9.3", "6.0", id="asymmetric"),
    # homogeneity only changes MASI: 0.3·1·(1+4) = 1.5 ; mMASI 0.3·1·1 = 0.3
    pytest.param(((1, 1, 4), (0, 0, 0), (0, 0, 0), (0, 0, 0)), "1.5", "0.3", id="homogeneity-only-in-masi"),
]


@pytest.fixture
def plan(db):
    return PlanFactory(state="active")


@pytest.fixture
def session(plan):
    return TreatmentSessionFactory(plan=plan, number=1)


def post_for(comps: dict, **extra) -> dict:
    return {"kind": "pre_session", "taken_on": timezone.localdate().isoformat(), **{k: str(v) for k, v in comps.items()}, **extra}


@pytest.mark.parametrize("regions, masi, mmasi", HAND_COMPUTED)
def test_masi_and_mmasi_computed_by_the_service_through_the_form(clinician_client, clinician, session, regions, masi, mmasi):
    # A forged score in the POST is ignored: the service computes the scores from the components.
    post = post_for(components(*regions), masi="99", mmasi="99")
    response = clinician_client.post(reverse("plans:session_assessment_new", args=[session.pk]), post)
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert assessment.masi == Decimal(masi) and assessment.mmasi == Decimal(mmasi)
    assert assessment.plan == session.plan and assessment.session == session and assessment.rater == clinician
    assert assessment.patient == session.plan.patient


@pytest.mark.parametrize(
    "field, value",
    [("forehead_area", 7), ("chin_darkness", 5), ("left_malar_homogeneity", 5), ("right_malar_area", -1)],
)
def test_out_of_range_component_is_refused_next_to_the_field(clinician_client, session, field, value):
    post = post_for(components(*((3, 2, 2),) * 4) | {field: value})
    response = clinician_client.post(reverse("plans:session_assessment_new", args=[session.pk]), post)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not Assessment.objects.exists()


def test_service_range_checks_even_without_the_form(clinician, plan):
    bad = components((7, 2, 2), (3, 2, 2), (3, 2, 2), (1, 1, 1))
    expected = rules.ERR_SCORE_RANGE.format(region="forehead", component="area", maximum=6, value=7)
    with pytest.raises(ValidationError) as exc:
        services.assessment_record(plan=plan, kind="baseline", taken_on=timezone.localdate(), components=bad, by=clinician)
    assert exc.value.messages == [expected]
    assert not Assessment.objects.exists()


def test_melasqol_total_and_validation(clinician_client, session):
    url = reverse("plans:session_assessment_new", args=[session.pk])
    comps = components(*((3, 2, 2),) * 4)
    items = {f"melasqol_{n}": str(v) for n, v in zip(range(1, 11), [1, 2, 3, 4, 5, 6, 7, 7, 7, 7], strict=True)}
    assert clinician_client.post(url, post_for(comps, **items)).status_code == 302
    assessment = Assessment.objects.get()
    assert assessment.melasqol_total == 49 and assessment.melasqol_items == [1, 2, 3, 4, 5, 6, 7, 7, 7, 7]

    partial = clinician_client.post(url, post_for(comps, melasqol_1="3"))
    assert forms_error(partial) == ["Fill in all 10 MELASQOL items, or none."]
    too_high = clinician_client.post(url, post_for(comps, **(items | {"melasqol_4": "8"})))
    assert "melasqol_4" in too_high.context["form"].errors
    assert Assessment.objects.count() == 1


def forms_error(response):
    return list(response.context["form"].non_field_errors())


def test_plan_assessment_offers_baseline_and_follow_up(clinician_client, plan):
    url = reverse("plans:plan_assessment_new", args=[plan.pk])
    html = clinician_client.get(url).content.decode()
    assert 'value="baseline"' in html and 'value="follow_up"' in html and 'value="pre_session"' not in html
    response = clinician_client.post(url, post_for(components(*((3, 2, 2),) * 4), kind="baseline"))
    assert response.status_code == 302
    assert Assessment.objects.get().kind == "baseline" and Assessment.objects.get().session is None


def test_assessment_in_the_future_is_refused(clinician_client, session):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = clinician_client.post(
        reverse("plans:session_assessment_new", args=[session.pk]),
        post_for(components(*((3, 2, 2),) * 4), taken_on=tomorrow),
    )
    assert services.ERR_DATE_IN_FUTURE in response.context["form"].errors["taken_on"]
    assert not Assessment.objects.exists()


# --- trend chart ----------------------------------------------------------------------------------------------


def add_assessments(plan, values, start=dt.date(2026, 1, 5)):
    for index, (masi, mmasi) in enumerate(values):
        AssessmentFactory(
            plan=plan, patient=plan.patient, kind="baseline" if index == 0 else "pre_session",
            taken_on=start + dt.timedelta(days=28 * index), masi=Decimal(masi), mmasi=Decimal(mmasi),
        )


def test_trend_chart_percent_change_from_baseline(plan):
    add_assessments(plan, [("15.8", "9.1"), ("12.0", "6.0"), ("8.0", "4.5"), ("8.0", "4.0")])
    trend = selectors.trend_chart(list(Assessment.objects.filter(plan=plan).order_by("taken_on")))
    rows = trend["rows"]
    assert [r["mmasi_change"] for r in rows] == [Decimal("0.0"), Decimal("-34.1"), Decimal("-50.5"), Decimal("-56.0")]
    assert [r["masi_change"] for r in rows] == [Decimal("0.0"), Decimal("-24.1"), Decimal("-49.4"), Decimal("-49.4")]
    assert rows[0]["is_baseline"] and not rows[1]["is_baseline"]
    assert trend["ticks"][-1]["value"] == 16  # axis top: next multiple of 4 above 15.8
    # Higher scores sit higher on the chart (smaller y); dates run left to right.
    assert rows[0]["masi_y"] < rows[1]["masi_y"] and rows[0]["x"] < rows[1]["x"] < rows[3]["x"]


def test_change_within_rater_noise_is_flagged(plan):
    add_assessments(plan, [("10.0", "5.0"), ("9.5", "4.2")])
    trend = selectors.trend_chart(list(Assessment.objects.filter(plan=plan).order_by("taken_on")))
    assert trend["rows"][1]["mmasi_meaningful"] is False  # 0.8 points ≤ 1 (§1.3, S5)


def render_plan_panel(plan, user) -> str:
    context = selectors.plan_panel(plan, user)
    return render_to_string("plans/visits/includes/plan_panel.html", {"panel": context, "perms": None})


def test_plan_panel_shows_svg_chart_without_inline_style_or_script(clinician, plan):
    add_assessments(plan, [("15.8", "9.1"), ("12.0", "6.0")])
    html = render_plan_panel(plan, clinician)
    assert "<svg" in html and "<polyline" in html and "-34.1%" in html
    assert "style=" not in html and "<script" not in html
    assert "<table" in html  # accessible / print fallback


def test_plan_panel_lists_sessions_with_links_and_events(clinician, plan, session):
    event = AdverseEventFactory(patient=plan.patient, plan=plan, session=session, ae_type="pih", grade=3)
    html = render_plan_panel(plan, clinician)
    assert reverse("plans:session", args=[session.pk]) in html
    assert reverse("plans:adverse_event", args=[event.pk]) in html
    assert "Post-inflammatory hyperpigmentation" in html and "report" in html


def test_panels_by_role(front_desk, manager, plan, session):
    AssessmentFactory(plan=plan, patient=plan.patient)
    desk = selectors.plan_panel(plan, front_desk)
    assert desk["visit_sessions"] == [session]
    assert "trend" not in desk and "plan_adverse_events" not in desk and "photo_pairs" not in desk
    assert selectors.plan_panel(plan, AnonymousUser()) is None
    assert "trend" in selectors.plan_panel(plan, manager)
    assert selectors.patient_panel(plan.patient, front_desk) is None
    assert selectors.patient_panel(plan.patient, manager)["assessment_summary"]["count"] == 1


def test_plan_and_patient_panels_are_registered(clinician, plan):
    templates = [p["template"] for p in panels_for("plan", plan, clinician)]
    assert "plans/visits/includes/plan_panel.html" in templates
    templates = [p["template"] for p in panels_for("patient", plan.patient, clinician)]
    assert "plans/visits/includes/patient_panel.html" in templates


def test_dashboard_panel_lists_open_adverse_events_for_clinicians(clinician, front_desk, clinician_client):
    patient = PatientFactory(last_name="Zephyr")
    AdverseEventFactory(patient=patient, ae_type="pih")
    AdverseEventFactory(patient=patient, outcome="resolved", reviewed_by=clinician, reviewed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    context = dashboard_context(clinician)
    assert "plans/visits/includes/dashboard_open_aes.html" in context["dashboard_panels"]
    assert context["visits_open_adverse_event_count"] == 1
    assert "plans/visits/includes/dashboard_open_aes.html" not in dashboard_context(front_desk)["dashboard_panels"]
    html = clinician_client.get("/").content.decode()
    assert "Open adverse events" in html and "Zephyr" in html and "Post-inflammatory hyperpigmentation" in html


def _count(html, pattern):
    return len(re.findall(pattern, html))


@pytest.mark.parametrize("size", [1, 12])
def test_plan_panel_query_budget(django_assert_max_num_queries, clinician, size):
    plan = PlanFactory(state="active", sessions_planned=min(size, 6))
    for number in range(1, size + 1):
        session = TreatmentSessionFactory(plan=plan, number=number)
        AdverseEventFactory(patient=plan.patient, plan=plan, session=session)
    add_assessments(plan, [("15.8", "9.1")] + [("12.0", "6.0")] * (size - 1))
    user = UserFactory(username=f"budget{size}", role="clinician")
    user = type(user).objects.get(pk=user.pk)  # fresh permission cache
    plan = type(plan).objects.select_related("patient").get(pk=plan.pk)
    with django_assert_max_num_queries(6):
        html = render_plan_panel(plan, user)
    assert _count(html, r'href="/sessions/\d+/"') == size
    assert _count(html, r'href="/adverse-events/\d+/"') == size


@pytest.mark.parametrize("size", [1, 12])
def test_patient_panel_query_budget(db, django_assert_max_num_queries, size):
    plan = PlanFactory(state="active")
    for _ in range(size):
        AdverseEventFactory(patient=plan.patient, plan=plan)
    add_assessments(plan, [("15.8", "9.1")] * size)
    user = UserFactory(username=f"pp{size}", role="clinician")
    user = type(user).objects.get(pk=user.pk)
    with django_assert_max_num_queries(4):
        context = selectors.patient_panel(plan.patient, user)
        html = render_to_string("plans/visits/includes/patient_panel.html", {"panel": context})
    assert _count(html, r'href="/adverse-events/\d+/"') == size


@pytest.mark.parametrize("size", [1, 12])
def test_plan_page_query_budget_with_the_visits_panel(clinician_client, django_assert_max_num_queries, size):
    """The whole plan page (course area) with this area's panel: sessions, chart, events and photos."""
    from django.core.files.base import ContentFile

    from plans.models import Photo

    plan = PlanFactory(state="active", sessions_planned=6)
    sessions = [TreatmentSessionFactory(plan=plan, number=n) for n in range(1, 7)]
    for index in range(size):
        AdverseEventFactory(patient=plan.patient, plan=plan, session=sessions[index % 6])
        photo = Photo(patient=plan.patient, session=sessions[index % 6], taken_on=dt.date(2026, 1, 1) + dt.timedelta(days=index),
                      view="front", content_type="image/jpeg", uploaded_by=plan.created_by)
        photo.image.save(f"p{index}.jpg", ContentFile(b"x"), save=False)
        photo.save()
    add_assessments(plan, [("15.8", "9.1")] + [("12.0", "6.0")] * (size - 1))
    url = f"/plans/{plan.pk}/"
    clinician_client.get(url)  # warm caches (content types, templates) outside the measured request
    # 21 measured, 4 of them this panel's; a little headroom for the course area's own page, far below the
    # +11 an N+1 would add at the larger size.
    with django_assert_max_num_queries(24):
        response = clinician_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Severity trend" in html and _count(html, r'href="/adverse-events/\d+/"') >= size
