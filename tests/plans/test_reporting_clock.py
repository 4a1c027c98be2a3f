"""The serious-AE reporting clock (S58): due dates in business days, overdue flags where people look, the kept
report PDF read back with pdftotext, closing the clock, append-only reports and the inspector's ZIP."""

import datetime as dt
import io
import subprocess
import zipfile

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from clinic.models import AccessLog
from plans.models import AdverseEvent, AdverseEventReport
from plans.services import reporting
from plans.services import visits as services
from tests.factories import AdverseEventFactory, LotFactory, PatientFactory, PlanFactory, TreatmentSessionFactory

FRIDAY = dt.datetime(2026, 12, 11, 10, 0, tzinfo=dt.UTC)  # Friday 11 December 2026


@pytest.fixture(autouse=True)
def frozen():
    """Every test runs on Friday 11 December 2026, signed-in clients included."""
    with time_machine.travel(FRIDAY, tick=False):
        yield


@pytest.fixture
def christmas(settings):
    settings.CLINIC_OUTCOMES = {**settings.CLINIC_OUTCOMES, "holidays": [dt.date(2026, 12, 25), dt.date(2026, 12, 28)]}


def _serious_event(clinician, **extra):
    patient = PatientFactory(first_name="Harriet", last_name="Quinn", date_of_birth=dt.date(1980, 12, 20), sex="F")
    plan = PlanFactory(patient=patient, state="active", created_by=clinician, modality="nafl")
    lot = LotFactory(product=plan.exosome_product, number="LOT-SAE-1", expiry_date=dt.date(2027, 6, 30))
    session = TreatmentSessionFactory(
        plan=plan, number=1, status="completed", modality="nafl", device_name="Fraxel 1927", exosome_lot=lot,
        performed_at=dt.datetime(2026, 12, 3, 11, tzinfo=dt.UTC), exosome_applied="Topical, straight after the pass",
    )
    return services.adverse_event_record(
        patient=patient, session=session, ae_type="bacterial_infection", onset_date=dt.date(2026, 12, 9), grade=3,
        serious=extra.pop("serious", True), description="Impetiginised crusts on both cheeks.",
        action_taken="Oral flucloxacillin 7 days.", by=clinician, **extra,
    )


def test_due_date_counts_15_business_days_across_weekends_and_holidays(clinician, christmas):
    event = _serious_event(clinician)
    # Learned Fri 11 Dec: 14–18 (5), 21–24 (9; 25 holiday), 29–31 (12; 28 holiday), 1 Jan (13), 4–5 Jan (15).
    assert event.learned_on == dt.date(2026, 12, 11)
    assert event.report_due_on == dt.date(2027, 1, 5)


def test_non_reportable_event_has_no_clock_until_corrected(clinician):
    event = AdverseEventFactory(recorded_by=clinician)
    event = services.adverse_event_record(patient=event.patient, ae_type="erythema", onset_date=dt.date(2026, 12, 10),
                                          grade=2, serious=False, description="Redness.", by=clinician)
    assert event.report_due_on is None
    event = services.adverse_event_correct(event=event, changes={"grade": 3}, reason="Regraded", by=clinician)
    assert event.report_due_on == dt.date(2027, 1, 1)  # no holidays set: Fri + 15 business days
    event = services.adverse_event_correct(event=event, changes={"grade": 2}, reason="Regraded back", by=clinician)
    assert event.report_due_on is None


@pytest.mark.parametrize(("days_after_due", "overdue"), [(0, False), (1, True)])
def test_overdue_flag_on_event_list_and_dashboard(clinician, manager, days_after_due, overdue):
    event = _serious_event(clinician)
    due = event.report_due_on
    with time_machine.travel(dt.datetime.combine(due + dt.timedelta(days=days_after_due), dt.time(12), tzinfo=dt.UTC), tick=False):
        clinician_client, manager_client = Client(), Client()  # signed in on that day (sessions time out when idle)
        clinician_client.force_login(clinician)
        manager_client.force_login(manager)
        event.refresh_from_db()
        assert event.report_overdue is overdue
        badge = f"overdue since {due:%Y-%m-%d}" if overdue else f"due {due:%Y-%m-%d}"
        assert badge in clinician_client.get(reverse("plans:adverse_events")).content.decode()
        page = clinician_client.get(reverse("plans:adverse_event", args=[event.pk])).content.decode()
        assert ("Overdue" in page) is overdue
        dashboard = manager_client.get(reverse("dashboard")).content.decode()
        assert "Serious adverse events to report" in dashboard and badge in dashboard
        assert ("1 overdue" in dashboard) is overdue


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_generated_report_is_prefilled_without_the_name_and_kept(clinician, clinician_client, tmp_path):
    event = _serious_event(clinician)
    response = clinician_client.post(reverse("plans:adverse_event_report_new", args=[event.pk]),
                                     {"criteria": ["infection", "important_medical_event"]})
    assert response.status_code == 302
    report = AdverseEventReport.objects.get(event=event)
    pdf = clinician_client.get(reverse("plans:adverse_event_report_pdf", args=[report.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content == bytes(report.pdf)
    text = " ".join(_pdf_text(pdf.content, tmp_path).split())
    for expected in ("Initials HQ", "Age at onset 45", "Sex Female", "Lot LOT-SAE-1", "Expiry 2027-06-30",
                     "Non-ablative fractional laser (Fraxel 1927)", "Topical, straight after the pass",
                     "Dates of exposure 2026-12-03", "Onset 2026-12-09", "CTCAE grade 3", "Infection (cosmetics, S58)",
                     "Oral flucloxacillin", "Impetiginised crusts", "Ada Adams"):
        assert expected in text, expected
    assert "Harriet" not in text and "Quinn" not in text and event.patient.mrn not in text
    assert AccessLog.objects.filter(patient=event.patient, user=clinician).exists()


def test_reports_are_kept_as_generated_and_never_changed(clinician):
    event = _serious_event(clinician)
    first = reporting.adverse_event_report_generate(event=event, criteria=["infection"], by=clinician)
    services.adverse_event_correct(event=event, changes={"description": "Corrected wording."}, reason="typo", by=clinician)
    second = reporting.adverse_event_report_generate(event=event, criteria=["infection"], by=clinician)
    first.refresh_from_db()
    assert (first.number, second.number) == (1, 2)
    assert first.content["event"]["description"] == "Impetiginised crusts on both cheeks."
    assert second.content["event"]["description"] == "Corrected wording."
    with pytest.raises(PermissionError):
        first.save()
    with pytest.raises(PermissionError):
        first.delete()
    with pytest.raises(PermissionError):
        AdverseEventReport.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_database_refuses_to_change_or_delete_a_kept_report(clinician):
    report = reporting.adverse_event_report_generate(event=_serious_event(clinician), criteria=[], by=clinician)
    for sql in ("UPDATE plans_adverseeventreport SET sha256 = 'x' WHERE id = %s",
                "DELETE FROM plans_adverseeventreport WHERE id = %s"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [report.pk])
    assert AdverseEventReport.objects.filter(pk=report.pk, sha256=report.sha256).exists()


def test_report_only_for_reportable_events(clinician):
    patient = PatientFactory()
    event = services.adverse_event_record(patient=patient, ae_type="erythema", onset_date=dt.date(2026, 12, 10),
                                          grade=1, serious=False, description="Redness.", by=clinician)
    with pytest.raises(Exception, match="Only a serious"):
        reporting.adverse_event_report_generate(event=event, criteria=[], by=clinician)


def test_recording_the_report_closes_the_clock(clinician, clinician_client, manager_client):
    event = _serious_event(clinician)
    url = reverse("plans:adverse_event_reported", args=[event.pk])
    clinician_client.post(url, {"reported_at": "2026-12-11T09:30", "how": "medwatch_online", "reference": ""})
    event.refresh_from_db()
    assert event.reported_at is None  # no reference: refused, nothing saved
    clinician_client.post(url, {"reported_at": "2026-12-12T09:30", "how": "medwatch_online", "reference": "MW-1"})
    event.refresh_from_db()
    assert event.reported_at is None  # in the future
    response = clinician_client.post(url, {"reported_at": "2026-12-11T09:30", "how": "medwatch_online", "reference": "MW-2026-0042"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.reported_how, event.report_reference, event.reported_by) == ("medwatch_online", "MW-2026-0042", clinician)
    assert not event.report_overdue
    assert "Serious adverse events to report" not in manager_client.get(reverse("dashboard")).content.decode()
    assert "MW-2026-0042" in clinician_client.get(reverse("plans:adverse_event", args=[event.pk])).content.decode()


def test_database_refuses_a_report_without_channel_and_reference(clinician):
    event = AdverseEventFactory(recorded_by=clinician, grade=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        AdverseEvent.objects.filter(pk=event.pk).update(reported_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def test_inspector_zip_holds_csv_and_kept_pdfs(clinician, manager, manager_client):
    event = _serious_event(clinician)
    report = reporting.adverse_event_report_generate(event=event, criteria=["infection"], by=clinician)
    other = AdverseEventFactory(recorded_by=clinician, onset_date=dt.date(2026, 1, 5))
    response = manager_client.get(reverse("plans:adverse_events_inspector_export"),
                                  {"date_from": "2026-12-01", "date_to": "2026-12-31"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["adverse-events.csv", f"reports/ae-{event.pk}-report-1.pdf"]
    assert archive.read(f"reports/ae-{event.pk}-report-1.pdf") == bytes(report.pdf)
    csv_text = archive.read("adverse-events.csv").decode()
    assert event.patient.mrn in csv_text and other.patient.mrn not in csv_text
    assert "2027-01-01" in csv_text  # the due date (no holidays set)
    assert list(AccessLog.objects.filter(user=manager).values_list("patient_id", flat=True)) == [event.patient_id]


@pytest.mark.parametrize(
    ("name", "allowed"),
    [("plans:adverse_events_inspector_export", {"manager"}), ("plans:adverse_event_report_pdf", {"clinician", "manager"})],
)
def test_permission_ladders(role_clients, clinician, name, allowed):
    report = AdverseEventReport.objects.create(event=AdverseEventFactory(recorded_by=clinician), number=1, content={},
                                               pdf=b"%PDF-1.4", sha256="0" * 64, created_by=clinician)
    url = reverse(name, args=[report.pk]) if "pdf" in name else reverse(name)
    assert role_clients["anonymous"].get(url).status_code == 302
    for role in ("clinician", "front_desk", "manager"):
        assert role_clients[role].get(url).status_code == (200 if role in allowed else 403), role


@pytest.mark.parametrize("name", ["plans:adverse_event_report_new", "plans:adverse_event_reported"])
def test_action_ladders(role_clients, clinician, name):
    event = AdverseEventFactory(recorded_by=clinician, grade=3)
    url = reverse(name, args=[event.pk])
    assert role_clients["anonymous"].post(url).status_code == 302
    assert role_clients["front_desk"].post(url).status_code == 403
    assert role_clients["manager"].post(url).status_code == 403
    assert role_clients["clinician"].post(url).status_code == 302
