"""Query budgets for the remaining visits pages at two data sizes (same budget for both)."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from plans.models import AdverseEventNote, Photo, PreSessionCheck, SessionAmendment
from tests.factories import (
    AdverseEventFactory, AssessmentFactory, ExosomeProductFactory, LotFactory, PlanFactory, TreatmentSessionFactory,
)


@pytest.mark.parametrize("size", [1, 12])
def test_session_page_query_budget(clinician_client, clinician, django_assert_max_num_queries, size):
    plan = PlanFactory(state="active")
    session = TreatmentSessionFactory(plan=plan, number=1, status="completed", performed_by=clinician,
                                      performed_at=timezone.now(), exosome_lot=LotFactory(), device_settings={"passes": 2})
    for index in range(size):
        PreSessionCheck.objects.create(session=session, passed=index % 2 == 0, blockers=[] if index % 2 == 0 else ["x"], by=clinician)
        SessionAmendment.objects.create(session=session, reason=f"r{index}", before={"notes": ""}, after={"notes": "x"}, by=clinician)
        AssessmentFactory(plan=plan, patient=plan.patient, session=session, kind="pre_session", rater=clinician)
        AdverseEventFactory(patient=plan.patient, plan=plan, session=session, recorded_by=clinician)
        photo = Photo(patient=plan.patient, session=session, taken_on=timezone.localdate(), view="front",
                      content_type="image/jpeg", uploaded_by=clinician)
        photo.image.save(f"s{index}.jpg", ContentFile(b"x"), save=False)
        photo.save()
    url = reverse("plans:session", args=[session.pk])
    clinician_client.get(url)
    with django_assert_max_num_queries(16):
        response = clinician_client.get(url)
    assert response.status_code == 200
    assert len(response.context["amendments"]) == size and len(response.context["photos"]) == size


@pytest.mark.parametrize("size", [1, 12])
def test_products_page_query_budget(clinician_client, django_assert_max_num_queries, size):
    for n in range(size):
        LotFactory(product=ExosomeProductFactory(name=f"Product {n}"))
    with django_assert_max_num_queries(11):
        response = clinician_client.get(reverse("plans:products"))
    assert response.content.decode().count("Product ") >= size


@pytest.mark.parametrize("size", [1, 12])
def test_report_and_export_query_budget(clinician_client, django_assert_max_num_queries, size):
    lot = LotFactory()
    for _ in range(size):
        plan = PlanFactory(state="active")
        event = AdverseEventFactory(patient=plan.patient, plan=plan, lot=lot,
                                    session=TreatmentSessionFactory(plan=plan, number=1))
        AdverseEventNote.objects.create(event=event, note="n", by=event.recorded_by)
    for name in ("plans:adverse_events_report", "plans:adverse_events_export"):
        with django_assert_max_num_queries(11):
            response = clinician_client.get(reverse(name))
        assert response.status_code == 200
