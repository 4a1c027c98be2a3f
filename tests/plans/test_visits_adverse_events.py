"""Adverse events: recording (lot from the session), follow-up notes, review, outcome, correction by amendment,
the reporting flag, the list (open first), CSV export and printable report."""

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from plans import rules
from plans.models import AdverseEvent, AdverseEventNote
from plans.selectors import visits as selectors
from plans.services import visits as services
from tests.factories import AdverseEventFactory, LotFactory, PatientFactory, PlanFactory, TreatmentSessionFactory, UserFactory
from tests.clock import clinic_time

NOW = clinic_time("2026-11-30", "10:30")  # a fixed clinic morning; every date below is built from it
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW)  # ticks on, so records made one after the other keep their order


@pytest.fixture
def lot(db):
    return LotFactory(number="LOT-AE1")


@pytest.fixture
def session(lot, clinician):
    plan = PlanFactory(state="active")
    return TreatmentSessionFactory(plan=plan, number=1, status="completed", exosome_lot=lot, performed_at=timezone.now())


def ae_post(**overrides):
    return {
        "ae_type": "erythema", "onset_date": TODAY.isoformat(), "grade": "1", "description": "Redness at day 5.",
        "action_taken": "Cool compresses.", **overrides,
    }


def test_record_against_a_session_fills_the_lot(clinician_client, clinician, session, lot):
    url = reverse("plans:session_adverse_event_new", args=[session.pk])
    assert f'<option value="{lot.pk}" selected' in clinician_client.get(url).content.decode()
    response = clinician_client.post(url, ae_post(lot=""))  # lot left empty: taken from the session
    event = AdverseEvent.objects.get()
    assert response.status_code == 302 and response.url == reverse("plans:adverse_event", args=[event.pk])
    assert event.session == session and event.plan == session.plan and event.patient == session.plan.patient
    assert event.lot == lot and event.recorded_by == clinician and event.outcome == "ongoing"
    assert event.reviewed_at is None


def test_record_between_sessions_against_the_plan(clinician_client, session):
    response = clinician_client.post(reverse("plans:plan_adverse_event_new", args=[session.plan.pk]), ae_post(ae_type="pih", grade="2"))
    assert response.status_code == 302
    event = AdverseEvent.objects.get()
    assert event.session is None and event.plan == session.plan and event.lot is None


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"ae_type": "sunburnish"}, "ae_type"),
        ({"grade": "6"}, "grade"),
        ({"grade": "0"}, "grade"),
        ({"onset_date": (TODAY + dt.timedelta(days=3)).isoformat()}, "onset_date"),
        ({"description": ""}, "description"),
    ],
)
def test_bad_adverse_event_input_is_refused_and_nothing_saved(clinician_client, session, overrides, field):
    response = clinician_client.post(reverse("plans:session_adverse_event_new", args=[session.pk]), ae_post(**overrides))
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not AdverseEvent.objects.exists()


def test_types_and_grades_come_from_the_domain_reference(clinician_client, session):
    html = clinician_client.get(reverse("plans:session_adverse_event_new", args=[session.pk])).content.decode()
    for key, label in rules.AE_TYPES:
        assert f'value="{key}"' in html
    for grade, _ in rules.CTCAE_GRADES:
        assert f'<option value="{grade}"' in html


@pytest.mark.parametrize(
    "grade, serious, reportable",
    [(1, False, False), (2, False, False), (3, False, True), (5, False, True), (1, True, True), (2, True, True)],
)
def test_reportable_flag(clinician_client, session, grade, serious, reportable):
    event = AdverseEventFactory(patient=session.plan.patient, plan=session.plan, grade=grade, serious=serious)
    html = clinician_client.get(reverse("plans:adverse_event", args=[event.pk])).content.decode()
    assert ("Flagged for reporting" in html) is reportable
    listed = clinician_client.get(reverse("plans:adverse_events")).content.decode()
    assert ('<span class="badge text-bg-danger">report</span>' in listed) is reportable
    panel = clinician_client.get(session.plan.get_absolute_url()).content.decode()
    assert ('<span class="badge text-bg-danger">report</span>' in panel) is reportable


def test_lifecycle_note_review_resolve(clinician_client, clinician, session):
    clinician_client.post(reverse("plans:session_adverse_event_new", args=[session.pk]), ae_post(ae_type="pih", grade="2"))
    event = AdverseEvent.objects.get()
    assert selectors.open_unreviewed_adverse_events([session.plan.patient_id]) == {session.plan.patient_id: 1}

    assert clinician_client.post(reverse("plans:adverse_event_note", args=[event.pk]), {"note": "Week 2: fading."}).status_code == 302
    assert clinician_client.post(reverse("plans:adverse_event_note", args=[event.pk]), {"note": ""}).status_code == 400
    assert clinician_client.post(reverse("plans:adverse_event_note", args=[event.pk]), {"note": "Week 4: faint."}).status_code == 302
    assert list(AdverseEventNote.objects.filter(event=event).values_list("note", flat=True)) == ["Week 2: fading.", "Week 4: faint."]

    clinician_client.post(reverse("plans:adverse_event_review", args=[event.pk]))
    event.refresh_from_db()
    assert event.reviewed_by == clinician and event.reviewed_at is not None
    assert selectors.open_unreviewed_adverse_events([session.plan.patient_id]) == {}
    # Still open on the list (ongoing) though it no longer holds the next session.
    assert selectors.adverse_events_list().get(pk=event.pk).is_open is True
    again = clinician_client.post(reverse("plans:adverse_event_review", args=[event.pk]), follow=True)
    assert services.ERR_AE_ALREADY_REVIEWED in again.content.decode()

    before_onset = clinician_client.post(
        reverse("plans:adverse_event_resolve", args=[event.pk]),
        {"outcome": "resolved", "resolved_on": (TODAY - dt.timedelta(days=5)).isoformat()},
    )
    assert before_onset.status_code == 400 and services.ERR_AE_RESOLVED_BEFORE_ONSET in before_onset.content.decode()
    event.refresh_from_db()
    assert event.outcome == "ongoing" and event.resolved_on is None

    clinician_client.post(reverse("plans:adverse_event_resolve", args=[event.pk]), {"outcome": "resolved_sequelae", "resolved_on": TODAY.isoformat()})
    event.refresh_from_db()
    assert event.outcome == "resolved_sequelae" and event.resolved_on == TODAY
    assert selectors.adverse_events_list().get(pk=event.pk).is_open is False
    assert [h.history_change_reason for h in event.history.order_by("history_date")][1:] == ["Reviewed", "Outcome recorded"]


def test_correction_keeps_history_and_needs_a_reason(clinician_client, clinician, session, lot):
    event = AdverseEventFactory(patient=session.plan.patient, plan=session.plan, session=session, grade=2, lot=lot)
    url = reverse("plans:adverse_event_correct", args=[event.pk])
    post = ae_post(grade="3", lot=str(lot.pk), onset_date=event.onset_date.isoformat(), description=event.description)
    no_reason = clinician_client.post(url, {**post, "reason": ""})
    assert no_reason.status_code == 200 and "reason" in no_reason.context["form"].errors
    event.refresh_from_db()
    assert event.grade == 2

    response = clinician_client.post(url, {**post, "reason": "Needed oral antibiotics: grade 3"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.grade == 3
    history = list(event.history.order_by("history_date"))
    assert [h.grade for h in history] == [2, 3]
    assert history[-1].history_user == clinician and history[-1].history_change_reason.startswith("Correction: Needed")
    note = AdverseEventNote.objects.get(event=event)
    assert "grade: 2 → 3" in note.note and "Needed oral antibiotics" in note.note
    with pytest.raises(PermissionError):
        event.delete()


def test_correction_without_change_is_refused(clinician, session):
    event = AdverseEventFactory(patient=session.plan.patient)
    with pytest.raises(ValidationError, match=services.ERR_NO_CHANGES):
        services.adverse_event_correct(event=event, changes={"grade": event.grade}, reason="no-op", by=clinician)


def make_events():
    patient = PatientFactory(mrn="MRN-AE-1")
    lot = LotFactory(number="LOT-X")
    reviewer = UserFactory(username="rev", role="clinician")
    resolved = AdverseEventFactory(
        patient=patient, ae_type="edema", onset_date=dt.date(2026, 2, 1), outcome="resolved", resolved_on=dt.date(2026, 2, 5),
        reviewed_by=reviewer, reviewed_at=timezone.now(), grade=1,
    )
    open_old = AdverseEventFactory(patient=patient, ae_type="pih", onset_date=dt.date(2026, 1, 10), grade=3, lot=lot)
    open_new = AdverseEventFactory(
        patient=patient, ae_type="hsv_reactivation", onset_date=dt.date(2026, 3, 1), serious=True,
        reviewed_by=reviewer, reviewed_at=timezone.now(), description="=HYPERLINK(\"x\")",
    )
    return resolved, open_old, open_new


def test_list_puts_open_events_first_then_by_onset(clinician_client, db):
    resolved, open_old, open_new = make_events()
    response = clinician_client.get(reverse("plans:adverse_events"))
    assert [e.pk for e in response.context["page"]] == [open_new.pk, open_old.pk, resolved.pk]
    filtered = clinician_client.get(reverse("plans:adverse_events"), {"date_from": "2026-01-01", "date_to": "2026-02-28"})
    assert [e.pk for e in filtered.context["page"]] == [open_old.pk, resolved.pk]
    bad_period = clinician_client.get(reverse("plans:adverse_events"), {"date_from": "2026-03-01", "date_to": "2026-01-01"})
    assert bad_period.status_code == 200 and "The start of the period must be before its end." in bad_period.content.decode()


def test_list_is_paginated(clinician_client, settings, db):
    settings.PAGE_SIZE = 5
    for _ in range(7):
        AdverseEventFactory()
    first = clinician_client.get(reverse("plans:adverse_events"))
    second = clinician_client.get(reverse("plans:adverse_events"), {"page": 2})
    assert len(first.context["page"]) == 5 and len(second.context["page"]) == 2
    filtered = clinician_client.get(reverse("plans:adverse_events"), {"date_from": "2000-01-01"}).content.decode()
    assert 'href="?date_from=2000-01-01&amp;page=2"' in filtered  # the period survives paging


def test_csv_export_over_a_period(clinician_client, db):
    resolved, open_old, open_new = make_events()
    response = clinician_client.get(reverse("plans:adverse_events_export"), {"date_from": "2026-01-01", "date_to": "2026-02-28"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [int(r["event id"]) for r in rows] == [open_old.pk, resolved.pk]  # onset order
    pih = rows[0]
    assert pih["type"] == "Post-inflammatory hyperpigmentation" and pih["reportable"] == "yes" and pih["lot"] == "LOT-X"
    assert pih["patient MRN"] == "MRN-AE-1" and rows[1]["reportable"] == "no"
    everything = clinician_client.get(reverse("plans:adverse_events_export")).content.decode()
    assert "'=HYPERLINK" in everything  # no spreadsheet formulas


def test_printable_report(clinician_client, db):
    make_events()
    response = clinician_client.get(reverse("plans:adverse_events_report"), {"date_from": "2026-01-01"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "3 events, 2 flagged for reporting" in html and "data-print" in html
    assert "HSV reactivation" in html


@pytest.mark.parametrize("size", [1, 12])
def test_adverse_event_list_query_budget(clinician_client, django_assert_max_num_queries, size):
    lot = LotFactory()
    for index in range(size):
        plan = PlanFactory(state="active")
        session = TreatmentSessionFactory(plan=plan, number=1, exosome_lot=lot)
        AdverseEventFactory(patient=plan.patient, plan=plan, session=session, lot=lot,
                            reviewed_by=plan.created_by if index % 2 else None,
                            reviewed_at=timezone.now() if index % 2 else None)
    url = reverse("plans:adverse_events")
    # session + user + 2 permission + count + groups (nav) + events + session save, and 4 savepoints
    with django_assert_max_num_queries(12):
        response = clinician_client.get(url)
    assert response.status_code == 200 and len(response.context["page"]) == size


@pytest.mark.parametrize("size", [1, 12])
def test_adverse_event_detail_query_budget(clinician_client, django_assert_max_num_queries, size):
    event = AdverseEventFactory(lot=LotFactory())
    for n in range(size):
        AdverseEventNote.objects.create(event=event, note=f"note {n}", by=event.recorded_by)
    with django_assert_max_num_queries(14):
        response = clinician_client.get(reverse("plans:adverse_event", args=[event.pk]))
    assert response.content.decode().count("note ") >= size


def test_open_unreviewed_adverse_events_is_one_query(django_assert_num_queries, db):
    a, b = PatientFactory(), PatientFactory()
    AdverseEventFactory(patient=a)
    AdverseEventFactory(patient=a)
    AdverseEventFactory(patient=b, reviewed_by=UserFactory(), reviewed_at=timezone.now())
    with django_assert_num_queries(1):
        counts = selectors.open_unreviewed_adverse_events([a.pk, b.pk])
    assert counts == {a.pk: 2}
