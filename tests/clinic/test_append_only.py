"""Clinical history the database refuses to rewrite (clinic/appendonly.py).

On PostgreSQL the guarantee is the database's: raw SQL, QuerySet.update() and a history manager's delete() are
refused by triggers, with the rule's name in the error, while what the app legitimately changes still goes
through. On SQLite (the demo) the models' own delete() guards are what stands; the structural checks at the end
run there too.
"""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction

from clinic.appendonly import RULE_PREFIX
from clinic.models import AccessLog, StaffChange
from plans import rules
from plans.models import MASI_FIELDS
from plans.models import (
    AdverseEvent,
    AdverseEventNote,
    AftercareSheet,
    Assessment,
    Photo,
    PreSessionCheck,
    SessionAmendment,
    SessionStatus,
    TreatmentSession,
)
from plans.services import aftercare as aftercare_services
from plans.services import course as course_services
from plans.services import visits as services
from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    ConsentFactory,
    LotFactory,
    PatientFactory,
    PlanFactory,
    TreatmentSessionFactory,
)

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 6, 10, 11, 0, tzinfo=LONDON)  # a Wednesday morning, clinic time


@pytest.fixture
def postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("the triggers exist only on PostgreSQL; SQLite keeps the app-level guards")


@pytest.fixture
def world(postgres_only, clinician):
    """One row of every guarded table, written as plain inserts (which the triggers allow)."""
    patient = PatientFactory()
    plan = PlanFactory(patient=patient, state="active")
    completed = TreatmentSessionFactory(
        plan=plan, number=1, status=SessionStatus.COMPLETED, modality=plan.modality, performed_at=NOW,
        completed_at=NOW, performed_by=clinician, notes="Tolerated well.",
    )
    amended = TreatmentSessionFactory(
        plan=plan, number=2, status=SessionStatus.COMPLETED, modality=plan.modality, performed_at=NOW,
        completed_at=NOW, performed_by=clinician,
    )
    planned = TreatmentSessionFactory(plan=plan, number=3)
    checked = TreatmentSessionFactory(plan=plan, number=4)
    event = AdverseEventFactory(patient=patient, plan=plan, session=completed)
    rows = {
        "patients_patient": patient,
        "plans_plan": plan,
        "completed_session": completed,
        "planned_session": planned,
        "plans_sessionamendment": SessionAmendment.objects.create(
            session=amended, reason="typo", before={"notes": "x"}, after={"notes": "y"}, by=clinician
        ),
        "plans_presessioncheck": PreSessionCheck.objects.create(session=checked, passed=True, by=clinician),
        "plans_assessment": AssessmentFactory(patient=patient, plan=plan),
        "plans_photo": Photo.objects.create(
            patient=patient, session=completed, taken_on=NOW.date(), view="front", image="photos/x.jpg",
            content_type="image/jpeg", uploaded_by=clinician,
        ),
        "plans_adverseevent": event,
        "plans_adverseeventnote": AdverseEventNote.objects.create(event=event, note="Better today.", by=clinician),
        "plans_consent": ConsentFactory(plan=plan),
        "plans_aftercaresheet": AftercareSheet.objects.create(
            session=completed, content={"sections": []}, text_versions={}, created_by=clinician
        ),
        "clinic_accesslog": AccessLog.objects.create(user=clinician, patient=patient, path="/patients/1/"),
        "clinic_staffchange": StaffChange.objects.create(member=clinician, by=clinician, action="created"),
    }
    rows["plans_consenttext"] = rows["plans_consent"].text
    return rows


# (row, SQL, refused, rule the error names). {table} and {id} come from the row.
COMPLETED_SESSION_RULE = "completed session clinical columns cannot be updated; record an amendment"
CASES = [
    # Never deleted.
    ("patients_patient", "DELETE FROM {table} WHERE id = {id}", True, "patients cannot be deleted"),
    ("plans_plan", "DELETE FROM {table} WHERE id = {id}", True, "plans cannot be deleted"),
    ("completed_session", "DELETE FROM {table} WHERE id = {id}", True, "completed sessions cannot be deleted"),
    ("plans_sessionamendment", "DELETE FROM {table} WHERE id = {id}", True, "session amendments cannot be deleted"),
    ("plans_presessioncheck", "DELETE FROM {table} WHERE id = {id}", True, "pre-session checks cannot be deleted"),
    ("plans_assessment", "DELETE FROM {table} WHERE id = {id}", True, "assessments cannot be deleted"),
    ("plans_photo", "DELETE FROM {table} WHERE id = {id}", True, "photos cannot be deleted"),
    ("plans_adverseevent", "DELETE FROM {table} WHERE id = {id}", True, "adverse events cannot be deleted"),
    ("plans_adverseeventnote", "DELETE FROM {table} WHERE id = {id}", True, "adverse-event notes cannot be deleted"),
    ("plans_consent", "DELETE FROM {table} WHERE id = {id}", True, "consents cannot be deleted"),
    ("plans_consenttext", "DELETE FROM {table} WHERE id = {id}", True, "consent text versions cannot be deleted"),
    ("plans_aftercaresheet", "DELETE FROM {table} WHERE id = {id}", True, "issued aftercare sheets cannot be deleted"),
    ("clinic_accesslog", "DELETE FROM {table} WHERE id = {id}", True, "access-log rows cannot be deleted"),
    ("clinic_staffchange", "DELETE FROM {table} WHERE id = {id}", True, "staff-account log rows cannot be deleted"),
    # A session not yet performed is not clinical history yet (the app still never deletes one).
    ("planned_session", "DELETE FROM {table} WHERE id = {id}", False, None),
    # Never rewritten.
    ("completed_session", "UPDATE {table} SET notes = 'rewritten' WHERE id = {id}", True, COMPLETED_SESSION_RULE),
    ("completed_session", """UPDATE {table} SET device_settings = '{{"passes": 9}}' WHERE id = {id}""", True,
     COMPLETED_SESSION_RULE),
    ("completed_session", "UPDATE {table} SET status = 'planned' WHERE id = {id}", True,
     "a completed session keeps its plan, number, status, modality and completion time"),
    ("plans_assessment", "UPDATE {table} SET masi = 1.0 WHERE id = {id}", True, "an assessment cannot be changed"),
    ("plans_aftercaresheet", "UPDATE {table} SET content = '{{}}' WHERE id = {id}", True,
     "an issued aftercare sheet cannot be changed"),
    ("clinic_accesslog", "UPDATE {table} SET path = '/elsewhere/' WHERE id = {id}", True,
     "access-log rows cannot be changed"),
    ("clinic_staffchange", "UPDATE {table} SET action = 'disabled' WHERE id = {id}", True,
     "staff-account log rows cannot be changed"),
    ("plans_sessionamendment", "UPDATE {table} SET reason = 'other' WHERE id = {id}", True,
     "a session amendment cannot be changed"),
    ("plans_adverseeventnote", "UPDATE {table} SET note = 'other' WHERE id = {id}", True,
     "an adverse-event note cannot be changed"),
    ("plans_consent", "UPDATE {table} SET signature = 'someone else' WHERE id = {id}", True,
     "a signed consent cannot be changed"),
    ("plans_photo", "UPDATE {table} SET view = 'left_oblique' WHERE id = {id}", True,
     "a clinical photo cannot be changed"),
    ("plans_adverseevent", "UPDATE {table} SET recorded_at = now() - interval '1 day' WHERE id = {id}", True,
     "an adverse event keeps its patient, plan, session and who recorded it when"),
    # What the app legitimately changes later.
    ("plans_adverseevent", "UPDATE {table} SET outcome = 'resolved', resolved_on = current_date WHERE id = {id}",
     False, None),
    ("plans_adverseevent", "UPDATE {table} SET reviewed_at = now() WHERE id = {id}", False, None),
    ("plans_adverseevent", "UPDATE {table} SET grade = 2 WHERE id = {id}", False, None),  # a correction
    ("plans_aftercaresheet", "UPDATE {table} SET emailed_at = now() WHERE id = {id}", False, None),
    ("planned_session", "UPDATE {table} SET status = 'blocked' WHERE id = {id}", False, None),
    ("patients_patient", "UPDATE {table} SET phone = '+44 20 0000 0000' WHERE id = {id}", False, None),
]
TABLES = {"completed_session": "plans_treatmentsession", "planned_session": "plans_treatmentsession"}


def _run(sql: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.mark.postgres
@pytest.mark.parametrize("row, sql, refused, rule", CASES, ids=[
    f"{row}-{sql.split()[0].lower()}-{'refused' if refused else 'allowed'}-{index}"
    for index, (row, sql, refused, _) in enumerate(CASES)
])
def test_raw_sql_on_clinical_tables(world, row, sql, refused, rule):
    instance = world[row]
    statement = sql.format(table=TABLES.get(row, row), id=instance.pk)
    if refused:
        with pytest.raises(DatabaseError) as refusal:
            _run(statement)
        assert f"{RULE_PREFIX}: {rule}" in str(refusal.value)
    else:
        _run(statement)


def _historical_models():
    return sorted(
        (model for model in apps.get_models() if model.__name__.startswith("Historical")),
        key=lambda model: model._meta.label,
    )


@pytest.mark.postgres
@pytest.mark.parametrize("operation", ["DELETE FROM {table}", "UPDATE {table} SET history_change_reason = 'x'"])
def test_every_history_table_refuses_deletes_and_rewrites(world, operation):
    history = [model for model in _historical_models() if model.objects.exists()]
    assert len(history) >= 6  # patient, plan, session, assessment, adverse event, consent at least
    for model in history:
        with pytest.raises(DatabaseError, match=f"{RULE_PREFIX}: history rows cannot be"):
            _run(operation.format(table=connection.ops.quote_name(model._meta.db_table)))
    assert all(model.objects.exists() for model in history)


@pytest.mark.postgres
def test_the_audit_trail_survives_the_history_managers_delete(world):
    count = TreatmentSession.history.count()
    assert count >= 2
    with pytest.raises(DatabaseError, match="append-only: history rows cannot be deleted"), transaction.atomic():
        TreatmentSession.history.all().delete()
    with pytest.raises(DatabaseError, match=COMPLETED_SESSION_RULE), transaction.atomic():
        TreatmentSession.objects.filter(pk=world["completed_session"].pk).update(notes="quietly rewritten")
    assert TreatmentSession.history.count() == count
    assert TreatmentSession.objects.get(pk=world["completed_session"].pk).notes == "Tolerated well."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_only_an_amendment_written_in_the_same_transaction_opens_a_completed_session(clinician):
    """Committed rows, as in production: an amendment from an earlier transaction does not let a later one
    rewrite the session; a transaction that writes its own amendment may. (The flush after this test is a
    TRUNCATE, which the row triggers do not see.)"""
    if connection.vendor != "postgresql":
        pytest.skip("the triggers exist only on PostgreSQL")
    plan = PlanFactory(state="active")
    session = TreatmentSessionFactory(
        plan=plan, number=1, status=SessionStatus.COMPLETED, modality=plan.modality, performed_at=NOW,
        completed_at=NOW, performed_by=clinician,
    )
    SessionAmendment.objects.create(session=session, reason="earlier", before={}, after={}, by=clinician)
    with pytest.raises(DatabaseError, match=COMPLETED_SESSION_RULE):
        _run(f"UPDATE plans_treatmentsession SET notes = 'later' WHERE id = {session.pk}")
    with pytest.raises(DatabaseError, match=COMPLETED_SESSION_RULE), transaction.atomic():
        with transaction.atomic():  # an amendment rolled back with its savepoint counts for nothing
            SessionAmendment.objects.create(session=session, reason="undone", before={}, after={}, by=clinician)
            transaction.set_rollback(True)
        TreatmentSession.objects.filter(pk=session.pk).update(zones="cheeks")
    with transaction.atomic():
        SessionAmendment.objects.create(
            session=session, reason="wrong zone", before={"zones": ""}, after={"zones": "cheeks"}, by=clinician
        )
        with transaction.atomic():  # in a savepoint of the same transaction, as services nest
            TreatmentSession.objects.filter(pk=session.pk).update(zones="cheeks")
    assert TreatmentSession.objects.get(pk=session.pk).zones == "cheeks"
    assert SessionAmendment.objects.filter(session=session).count() == 2


@pytest.mark.postgres
@time_machine.travel(NOW, tick=False)
def test_the_apps_own_flows_still_work_on_postgresql(postgres_only, clinician, settings, mailoutbox,
                                                    django_capture_on_commit_callbacks):
    """Record a session, amend it, assess, photograph, follow an adverse event, issue and email the aftercare
    sheet, sign consent: every write the services make later is one the triggers allow, and keeps history."""
    from tests.plans.test_aftercare_content import ship_texts

    ship_texts()
    patient = PatientFactory(email="pat@example.com", email_consent=True)
    plan = PlanFactory(patient=patient, state="active", modality=rules.MICRONEEDLING, device_settings={},
                       start_date=NOW.date())  # session 1 is due today: inside its window
    session = TreatmentSessionFactory(plan=plan, number=1)
    answers = rules.PreSessionAnswers(
        pregnant=False, new_medicines="", recent_sun_or_tan=False, active_lesion_or_infection=False,
        topical_pauses_kept=True, antiviral_taken=None,
    )
    services.pre_session_check_record(session=session, answers=answers, by=clinician)
    lot = LotFactory(expiry_date=NOW.date() + dt.timedelta(days=200))
    record = services.SessionRecord(
        performed_at=NOW - dt.timedelta(hours=1), performed_by=clinician, device_name="Dermapen 4",
        device_settings={"zone_depths_mm": {"forehead": 0.5, "malar": 0.5, "chin": 0.5}, "passes": 3,
                         "endpoint": "erythema", "device_type": "pen", "speed": 8},
        exosome_lot=lot, exosome_volume_ml=Decimal("1.5"), zones="full face", notes="Tolerated well.",
    )
    session = services.session_record(session=session, record=record, confirm_warnings=True, by=clinician)
    amendment = services.session_amend(
        session=session, record=services.SessionRecord(**{**record.__dict__, "zones": "cheeks and forehead"}),
        reason="zones written short", confirm_warnings=True, by=clinician,
    )
    session.refresh_from_db()
    assert session.zones == "cheeks and forehead" and amendment.after["zones"] == "cheeks and forehead"
    assert session.history.first().history_change_reason == "Amendment: zones written short"

    services.assessment_record(kind="pre_session", taken_on=NOW.date(), components=dict.fromkeys(MASI_FIELDS, 1),
                               by=clinician, session=session)
    services.photo_upload(patient=patient, view="front", taken_on=NOW.date(), by=clinician, session=session,
                          upload=SimpleUploadedFile("p.jpg", _tiny_jpeg(), "image/jpeg"))

    event = services.adverse_event_record(patient=patient, ae_type="erythema", onset_date=NOW.date(), grade=1,
                                          serious=False, description="Redness", by=clinician, session=session)
    services.adverse_event_add_note(event=event, note="Cool compresses.", by=clinician)
    services.adverse_event_review(event=event, by=clinician, note="Seen")
    services.adverse_event_correct(event=event, changes={"grade": 2}, reason="worse than noted", by=clinician)
    services.adverse_event_resolve(event=event, outcome="resolved", resolved_on=NOW.date(), by=clinician)
    event.refresh_from_db()
    assert (event.grade, event.outcome, event.reviewed_by) == (2, "resolved", clinician)
    assert event.history.count() == 4  # recorded, reviewed, corrected, resolved

    sheet = aftercare_services.aftercare_sheet_issue(session=session, by=clinician)
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes once the caller's transaction commits
        aftercare_services.aftercare_sheet_email(sheet=sheet, by=clinician)
    sheet.refresh_from_db()
    assert sheet.emailed_at == NOW and len(mailoutbox) == 1

    text = ConsentFactory(plan=plan).text
    course_services.consent_record(
        plan=plan, text=text, patient_printed_name=patient.full_name, signature=patient.full_name,
        patient_confirms=True, witness_name="Nurse", signed_at=NOW, by=clinician,
    )
    assert Assessment.objects.filter(session=session).count() == 1 and AdverseEvent.objects.count() == 1


def _tiny_jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 160, 140)).save(out, "JPEG")
    return out.getvalue()


# --- structural: runs on SQLite too ----------------------------------------------------------------------


def test_every_history_table_is_append_only():
    """A model tracked with plain HistoricalRecords, not AppendOnlyHistory, would get a history table the
    database lets anyone rewrite: every historical model must carry both triggers."""
    historical = _historical_models()
    assert len(historical) >= 12
    for model in historical:
        names = {trigger.name for trigger in getattr(model._meta, "triggers", [])}
        assert {"append_only_history_no_delete", "append_only_history_no_update"} <= names, model._meta.label


def test_no_code_sets_aside_every_trigger_at_once():
    """pgtrigger.ignore with no names switches off every trigger: only a named trigger may be set aside."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.rglob("*.py"):
        if any(part.startswith(".") or part in {"node_modules", "staticfiles"} for part in path.relative_to(root).parts):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [str(path.relative_to(root))] * len(re.findall(r"pgtrigger\.ignore\(\s*\)", text))
    assert offenders == []


@pytest.mark.django_db
def test_sqlite_keeps_the_app_level_guards():
    """Whatever the database, the models refuse deletes themselves (the demo's SQLite has only these)."""
    event = AdverseEventFactory()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AdverseEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AccessLog.objects.all().delete()
    assert AdverseEvent.objects.count() == 1
