"""Lot safety: AE rate per lot by grade with 95 % intervals and the signal, on hand-built lots with known
answers, where people look (lot list, lot page, product list, dashboard), with a flat query count."""

import datetime as dt
import html

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from plans.models import AdverseEvent, TreatmentSession
from tests.factories import ExosomeProductFactory, LotFactory, PatientFactory, PlanFactory

NOW = dt.datetime(2026, 11, 18, 11, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _used(lot, clinician, sessions: int, events: list[tuple[int, bool]]):
    """A lot used in `sessions` completed sessions, with adverse events (grade, serious) on the first ones."""
    plan = PlanFactory(state="completed", exosome_product=lot.product, created_by=clinician)
    made = TreatmentSession.objects.bulk_create([
        TreatmentSession(plan=plan, number=n, status="completed", exosome_lot=lot, performed_at=timezone.now())
        for n in range(1, sessions + 1)
    ])
    AdverseEvent.objects.bulk_create([
        AdverseEvent(patient=plan.patient, plan=plan, session=session, lot=lot, ae_type="erythema", onset_date=dt.date(2026, 11, 1),
                     grade=grade, serious=serious, description="x", recorded_by=clinician)
        for session, (grade, serious) in zip(made, events, strict=False)
    ])
    return lot


@pytest.fixture
def lots(clinician):
    product = ExosomeProductFactory(name="ExoSafe")
    hot = _used(LotFactory(product=product, number="HOT-1"), clinician, 20, [(1, False)] * 4 + [(2, False)] * 2)
    calm = _used(LotFactory(product=product, number="CALM-1"), clinician, 100, [(1, False)] * 2)
    serious = _used(LotFactory(product=ExosomeProductFactory(name="Other"), number="SER-1"), clinician, 3, [(2, True)])
    unused = LotFactory(product=product, number="NEW-1")
    return {"hot": hot, "calm": calm, "serious": serious, "unused": unused}


def test_lot_page_shows_rates_by_grade_and_signal(clinician_client, lots):
    body = html.unescape(clinician_client.get(reverse("plans:lot", args=[lots["hot"].pk])).content.decode())
    # 6 of 20 = 30 %, Wilson 14.5–51.9 %; grade ≥ 2: 2 of 20 = 10 % (2.8–30.1 %); serious: none.
    assert "30 % (15–52 %)" in body and "10 % (3–30 %)" in body and "0 % (0–16 %)" in body
    assert "Safety signal" in body and "lower 95 % bound (14.5%) is above the product's other lots (2.0%)" in body
    calm = clinician_client.get(reverse("plans:lot", args=[lots["calm"].pk])).content.decode()
    assert "Safety signal" not in calm and "2 % (1–7 %)" in calm
    unused = clinician_client.get(reverse("plans:lot", args=[lots["unused"].pk])).content.decode()
    assert "Safety signal" not in unused and "—" in unused


def test_any_serious_event_flags_the_lot(clinician_client, lots):
    body = clinician_client.get(reverse("plans:lot", args=[lots["serious"].pk])).content.decode()
    assert "Safety signal" in body and "1 serious event(s)" in body


def test_lot_list_and_dashboard_flag_exactly_the_signalled_lots(clinician_client, manager_client, front_desk_client, lots):
    listing = clinician_client.get(reverse("plans:lots")).content.decode()
    assert listing.count(">signal</a>") == 2
    for client in (clinician_client, manager_client):
        dashboard = client.get(reverse("dashboard")).content.decode()
        assert "Lots with a safety signal" in dashboard
        assert f'{reverse("plans:lot", args=[lots["hot"].pk])}#where-used' in dashboard
        assert "SER-1" in dashboard and "CALM-1" not in dashboard
    assert "Lots with a safety signal" not in front_desk_client.get(reverse("dashboard")).content.decode()


def test_product_list_shows_the_product_rate_by_grade(clinician_client, lots):
    body = clinician_client.get(reverse("plans:products")).content.decode()
    assert "Any grade: 8 · 7 % (3–13 %)" in body  # 8 events in 120 sessions of ExoSafe


@pytest.mark.parametrize("extra_lots", [1, 15])
def test_lot_list_query_count_is_flat(clinician, clinician_client, django_assert_max_num_queries, extra_lots):
    product = ExosomeProductFactory(name="Many")
    for n in range(extra_lots):
        _used(LotFactory(product=product, number=f"M-{n}"), clinician, 3, [(1, False)])
    with django_assert_max_num_queries(12):
        response = clinician_client.get(reverse("plans:lots"))
    assert response.status_code == 200
    with django_assert_max_num_queries(14):
        assert clinician_client.get(reverse("dashboard")).status_code == 200
