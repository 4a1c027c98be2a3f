"""Exosome products and lots: receiving, expiry/recall status, recall action and "where used"."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from plans.models import ExosomeProduct, Lot
from plans.services import visits as services
from tests.factories import AdverseEventFactory, ExosomeProductFactory, LotFactory, PlanFactory, TreatmentSessionFactory
from tests.clock import clinic_time

NOW = clinic_time("2026-11-30", "10:30")  # a fixed clinic morning; every date below is built from it
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW)  # ticks on, so records made one after the other keep their order


def used_in(lot, count, *, status="completed"):
    sessions = []
    for _ in range(count):
        plan = PlanFactory(state="active")
        sessions.append(
            TreatmentSessionFactory(plan=plan, number=1, status=status, exosome_lot=lot, performed_at=timezone.now())
        )
    return sessions


def test_where_used_finds_every_session_and_patient(clinician_client, db):
    lot = LotFactory(number="LOT-RECALL")
    other = LotFactory()
    sessions = used_in(lot, 3)
    second_session = TreatmentSessionFactory(plan=sessions[0].plan, number=2, exosome_lot=lot, status="completed")
    used_in(other, 2)
    event = AdverseEventFactory(patient=sessions[1].plan.patient, plan=sessions[1].plan, session=sessions[1])  # lot via session
    direct = AdverseEventFactory(lot=lot)
    response = clinician_client.get(reverse("plans:lot", args=[lot.pk]))
    assert response.status_code == 200
    assert {s.pk for s in response.context["sessions"]} == {s.pk for s in sessions} | {second_session.pk}
    assert {p.pk for p in response.context["patients"]} == {s.plan.patient_id for s in sessions}
    assert {e.pk for e in response.context["lot_adverse_events"]} == {event.pk, direct.pk}
    html = response.content.decode()
    for s in sessions:
        assert s.plan.patient.mrn in html and reverse("plans:session", args=[s.pk]) in html
    assert "4 sessions, 3 patients" in html


@pytest.mark.parametrize("size", [1, 12])
def test_lot_page_query_budget(clinician_client, django_assert_max_num_queries, size):
    lot = LotFactory()
    for session in used_in(lot, size):
        AdverseEventFactory(patient=session.plan.patient, plan=session.plan, session=session)
    with django_assert_max_num_queries(13):
        response = clinician_client.get(reverse("plans:lot", args=[lot.pk]))
    assert len(response.context["sessions"]) == size


@pytest.mark.parametrize("size", [1, 12])
def test_lot_list_query_budget(clinician_client, django_assert_max_num_queries, size):
    for _ in range(size):
        used_in(LotFactory(), 2)
    with django_assert_max_num_queries(12):
        response = clinician_client.get(reverse("plans:lots"))
    assert len(response.context["page"]) == size
    assert all(lot.use_count == 2 for lot in response.context["page"])


def test_lot_list_shows_status(clinician_client, db):
    LotFactory(number="LOT-OK")
    LotFactory(number="LOT-OLD", expiry_date=TODAY - dt.timedelta(days=1))
    LotFactory(number="LOT-BAD", recalled_at=timezone.now(), recall_reason="contamination")
    html = clinician_client.get(reverse("plans:lots")).content.decode()
    assert "Usable" in html and "Expired" in html and "Recalled" in html


def test_recall_with_reason(clinician_client, clinician, db):
    lot = LotFactory()
    url = reverse("plans:lot_recall", args=[lot.pk])
    clinician_client.post(url, {"reason": ""})
    lot.refresh_from_db()
    assert lot.recalled_at is None
    response = clinician_client.post(url, {"reason": "Manufacturer notice 2026-11: endotoxin"}, follow=True)
    lot.refresh_from_db()
    assert lot.recalled_at is not None and lot.recall_reason == "Manufacturer notice 2026-11: endotoxin"
    assert "recalled" in response.content.decode()
    assert lot.history.first().history_user == clinician
    # A recalled lot cannot be used any more.
    assert services.lot_usability_error(lot, TODAY).startswith(f"Lot {lot.number} was recalled")
    again = clinician_client.post(url, {"reason": "twice"}, follow=True)
    assert services.ERR_LOT_ALREADY_RECALLED in again.content.decode()


def test_receive_a_lot(clinician_client, db):
    product = ExosomeProductFactory()
    url = reverse("plans:lot_new")
    data = {"product": product.pk, "number": "A-100", "expiry_date": "2027-06-30", "received_on": TODAY.isoformat(), "quantity": "10"}
    response = clinician_client.post(url, data)
    lot = Lot.objects.get(number="A-100")
    assert response.status_code == 302 and response.url == reverse("plans:lot", args=[lot.pk])
    duplicate = clinician_client.post(url, data)
    assert duplicate.status_code == 200 and Lot.objects.filter(number="A-100").count() == 1
    future = clinician_client.post(url, {**data, "number": "A-101", "received_on": (TODAY + dt.timedelta(days=2)).isoformat()})
    assert "received_on" in future.context["form"].errors and not Lot.objects.filter(number="A-101").exists()
    bad_qty = clinician_client.post(url, {**data, "number": "A-102", "quantity": "-1"})
    assert "quantity" in bad_qty.context["form"].errors and not Lot.objects.filter(number="A-102").exists()


def test_products_list_and_new(manager_client, db):
    data = {
        "name": "RoseExo", "manufacturer": "Floral Bio", "source": "plant", "storage_format": "lyophilized",
        "storage_rule": "Room temperature; use within 2 h of reconstitution",
    }
    assert manager_client.post(reverse("plans:product_new"), data).status_code == 302
    product = ExosomeProduct.objects.get(name="RoseExo")
    assert product.source == "plant"
    html = manager_client.get(reverse("plans:products")).content.decode()
    assert "RoseExo" in html and "Plant-derived" in html and "use within 2 h" in html
    missing = manager_client.post(reverse("plans:product_new"), {**data, "name": "Other", "storage_rule": ""})
    assert "storage_rule" in missing.context["form"].errors and not ExosomeProduct.objects.filter(name="Other").exists()
