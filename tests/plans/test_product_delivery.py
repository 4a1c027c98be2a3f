"""Product regulatory facts, and a topical-only product delivered by injection needing an explicit confirmation
and a note (S56, S57), on every path that records a session (the service's one rule; the form shows it)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from plans.models import ExosomeProduct, SessionStatus, TreatmentSession
from plans.services import visits as services
from tests.factories import ExosomeProductFactory, LotFactory
from tests.plans.test_visits_sessions import GOOD_ANSWERS, make_session, record_post

NOW = dt.datetime(2026, 11, 18, 11, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _checked(clinician):
    session = make_session()
    services.pre_session_check_record(session=session, answers=GOOD_ANSWERS, by=clinician)
    return session


def _lot(route):
    return LotFactory(product=ExosomeProductFactory(name=f"Exo {route}", route_labelled=route),
                      expiry_date=dt.date(2027, 6, 30), received_on=dt.date(2026, 10, 1))


def _record(session, lot, clinician, **delivery):
    record = services.SessionRecord(
        performed_at=NOW, performed_by=clinician, device_name="Dermapen 4",
        device_settings={"depth_forehead_mm": 0.5, "depth_malar_mm": 0.5, "depth_chin_mm": 0.5, "passes": 3,
                         "endpoint": "erythema", "device_type": "pen", "speed": 8},
        exosome_lot=lot, exosome_volume_ml=None, **delivery,
    )
    return services.session_record(session=session, record=record, confirm_warnings=False, by=clinician)


# (route on label, delivery, confirmed, note, fields refused; empty = recorded)
DELIVERY_TABLE = [
    ("topical_only", "topical", False, "", set()),
    ("topical_only", "", False, "", set()),
    ("topical_only", "intradermal_injection", False, "", {"delivery_confirmed", "delivery_note"}),
    ("topical_only", "intradermal_injection", True, "", {"delivery_note"}),
    ("topical_only", "mesotherapy_injector", False, "Trial protocol NCT-x", {"delivery_confirmed"}),
    ("topical_only", "intradermal_injection", True, "Within the approved trial protocol.", set()),
    ("other", "intradermal_injection", False, "", set()),
]


@pytest.mark.parametrize(("route", "delivery", "confirmed", "note", "refused"), DELIVERY_TABLE)
def test_injecting_a_topical_only_product_needs_confirmation_and_note(clinician, route, delivery, confirmed, note, refused):
    session = _checked(clinician)
    lot = _lot(route)
    if refused:
        with pytest.raises(ValidationError) as error:
            _record(session, lot, clinician, exosome_delivery=delivery, delivery_confirmed=confirmed, delivery_note=note)
        assert set(error.value.message_dict) == refused
        assert TreatmentSession.objects.get(pk=session.pk).status == SessionStatus.PLANNED
    else:
        done = _record(session, lot, clinician, exosome_delivery=delivery, delivery_confirmed=confirmed, delivery_note=note)
        assert (done.status, done.exosome_delivery, done.delivery_note) == (SessionStatus.COMPLETED, delivery, note)


def test_record_form_shows_the_refusal_next_to_the_fields(clinician, clinician_client):
    session = _checked(clinician)
    lot = _lot("topical_only")
    url = reverse("plans:session_record", args=[session.pk])
    response = clinician_client.post(url, record_post(clinician, lot, exosome_delivery="intradermal_injection"))
    assert response.status_code == 200
    body = response.content.decode()
    assert services.ERR_DELIVERY_NOTE in body and "labelled for topical use only" in body
    assert TreatmentSession.objects.get(pk=session.pk).status == SessionStatus.PLANNED
    response = clinician_client.post(url, record_post(
        clinician, lot, exosome_delivery="intradermal_injection", delivery_confirmed="on",
        delivery_note="Within the approved trial protocol.",
    ))
    assert response.status_code == 302
    assert TreatmentSession.objects.get(pk=session.pk).delivery_confirmed is True


def test_product_carries_its_regulatory_facts(clinician_client):
    response = clinician_client.post(reverse("plans:product_new"), {
        "name": "CordEx", "manufacturer": "Umbilica", "source": "msc_umbilical", "storage_format": "frozen",
        "storage_rule": "−80 °C", "route_labelled": "topical_only",
        "regulatory_status": "Not FDA-approved; sold as a cosmetic", "clinic_decision": "Topical use after MN only.",
    })
    assert response.status_code == 302
    product = ExosomeProduct.objects.get(name="CordEx")
    assert (product.route_labelled, product.regulatory_status) == ("topical_only", "Not FDA-approved; sold as a cosmetic")
    body = clinician_client.get(reverse("plans:products")).content.decode()
    assert "Topical only" in body and "Not FDA-approved; sold as a cosmetic" in body and "Topical use after MN only." in body
