"""Every write of the visits area: pre-session checks, performed sessions and their amendments, assessments,
photos, adverse events, exosome products and lots.

Each service owns its transaction, locks the row it changes, validates with ``full_clean()`` and keeps history
(django-simple-history, plus SessionAmendment / AdverseEventNote for corrections). Clinical meaning comes from
``plans.rules``; errors are the module constants below so tests and forms can match them.
"""

import io
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps

from clinic.uploads import UNREADABLE_ERRORS, image_check, image_decoded
from plans import rules
from plans.rules import outcomes as rules_outcomes
from plans.config import outcome_config, rule_config
from plans.models import (
    AdverseEvent,
    AdverseEventNote,
    AdverseEventOutcome,
    Assessment,
    AssessmentKind,
    ExosomeProduct,
    Lot,
    Photo,
    Plan,
    PlanState,
    PreSessionCheck,
    SessionAmendment,
    SessionStatus,
    TreatmentSession,
)
from plans.models.visits import MASI_FIELDS
from plans.services import clean_save
from plans.models import LIVE_APPOINTMENT_STATUSES, Appointment, AppointmentStatus
from plans.selectors.scheduling import local_date, windows_for
from plans.services.reporting import report_clock_apply
from plans.services.scheduling import appointment_cancel, appointments_complete_for_session

ERR_PLAN_NOT_ACTIVE = "Sessions are recorded only on an active course plan."
ERR_SESSION_COMPLETED = "This session is already recorded; change it through an amendment with a reason."
ERR_SESSION_NOT_COMPLETED = "Only a recorded (completed) session can be amended."
ERR_SESSION_CLOSED = "This session is {status}; it cannot be started."
ERR_NEEDS_PASSING_CHECK = "Run a passing pre-session check today before recording the session."
ERR_LOT_EXPIRED = "Lot {lot} expired on {expiry:%Y-%m-%d}, before the session date: it cannot be used."
ERR_LOT_RECALLED = "Lot {lot} was recalled ({reason}): it cannot be used."
ERR_WARNINGS_UNCONFIRMED = "Some settings are outside the usual range: tick the confirmation to record them."
ERR_NO_CHANGES = "Nothing was changed."
ERR_DELIVERY_UNCONFIRMED = (
    "This product is labelled for topical use only and the chosen delivery injects it: confirm that this is "
    "intended."
)
ERR_DELIVERY_NOTE = "Write a note on why the product is injected against its topical-only label."
ERR_REASON_REQUIRED = "Give the reason for this amendment."
ERR_PERFORMED_IN_FUTURE = "The session cannot be recorded as performed in the future."
ERR_ASSESSMENT_TARGET = "An assessment belongs to a patient's plan or session."
ERR_PHOTO_TYPE = "Upload a JPEG or PNG photo."
ERR_PHOTO_TOO_LARGE = "The photo is larger than {limit_mb} MB."
ERR_AE_ALREADY_REVIEWED = "This adverse event is already reviewed."
ERR_AE_OUTCOME = "Choose resolved or resolved with sequelae."
ERR_AE_RESOLVED_BEFORE_ONSET = "The resolution date cannot be before the onset."
ERR_AE_RESOLVED_ON_REQUIRED = "Give the date it resolved."
ERR_DATE_IN_FUTURE = "This date cannot be in the future."
ERR_LOT_ALREADY_RECALLED = "This lot is already recalled."
ERR_RECALL_REASON = "Give the reason for the recall."
ERR_SKIP_REASON = "Give the reason for skipping this session."
ERR_SKIP_STATUS = "Session {number} is {status}; only a session still to come can be skipped."

# What a performed session records; the amendment compares and stores these (before/after).
SESSION_RECORD_FIELDS = [
    "performed_at", "performed_by", "device_name", "device_settings", "exosome_lot", "exosome_volume_ml",
    "exosome_applied", "exosome_delivery", "delivery_confirmed", "delivery_note", "zones", "anaesthetic", "notes",
]
# What an adverse-event correction may change.
AE_CORRECTABLE_FIELDS = ["ae_type", "onset_date", "grade", "serious", "description", "action_taken", "lot"]


def _user_label(user) -> str:
    return user.get_full_name() or user.username


def lot_usability_error(lot: Lot | None, day: date) -> str | None:
    """Why a lot cannot be recorded on this day (recalled, or expired before it), or None (§6: S58, S59)."""
    if lot is None:
        return None
    if lot.recalled_at is not None:
        return ERR_LOT_RECALLED.format(lot=lot.number, reason=lot.recall_reason or "no reason given")
    if lot.expiry_date < day:
        return ERR_LOT_EXPIRED.format(lot=lot.number, expiry=lot.expiry_date)
    return None


def _session_locked(session: TreatmentSession) -> TreatmentSession:
    # Lock the session row, then read its plan (a separate query: select_for_update with nullable joins is
    # refused on PostgreSQL, and only the session row is being changed).
    locked = TreatmentSession.objects.select_for_update().get(pk=session.pk)
    locked.plan = Plan.objects.select_related("patient").get(pk=locked.plan_id)
    return locked


def _require_active_plan(session: TreatmentSession) -> None:
    if session.plan.state != PlanState.ACTIVE:
        raise ValidationError(ERR_PLAN_NOT_ACTIVE)


# --- pre-session check (§3, §9) --------------------------------------------------------------------------


def open_unreviewed_count(patient_id: int) -> int:
    return AdverseEvent.objects.filter(patient_id=patient_id, reviewed_at__isnull=True).count()


@transaction.atomic
def pre_session_check_record(*, session: TreatmentSession, answers: rules.PreSessionAnswers, by) -> PreSessionCheck:
    """Record the day-of-treatment answers; a failed check blocks the session with its reasons (kept)."""
    session = _session_locked(session)
    _require_active_plan(session)
    if session.status not in (SessionStatus.PLANNED, SessionStatus.BLOCKED):
        raise ValidationError(ERR_SESSION_CLOSED.format(status=session.get_status_display().lower()))
    if not session.plan.patient.hsv_history:
        answers = replace(answers, antiviral_taken=None)  # asked only with HSV history (S28, S29)
    blockers = rules.pre_session_blockers(answers, session.plan.modality, open_unreviewed_count(session.plan.patient_id))
    check = PreSessionCheck(
        session=session,
        pregnant=answers.pregnant,
        new_medicines=answers.new_medicines.strip(),
        recent_sun_or_tan=answers.recent_sun_or_tan,
        active_lesion_or_infection=answers.active_lesion_or_infection,
        topical_pauses_kept=answers.topical_pauses_kept,
        antiviral_taken=answers.antiviral_taken,
        passed=not blockers,
        blockers=blockers,
        by=by,
    )
    check.full_clean()
    check.save()
    new_status = SessionStatus.BLOCKED if blockers else SessionStatus.PLANNED
    if session.status != new_status:
        session.status = new_status
        session._history_user = by
        session.save(update_fields=["status"])
    return check


def passing_check_today(session: TreatmentSession) -> PreSessionCheck | None:
    """The latest check if it passed and was taken today (clinic time), else None."""
    latest = session.checks.order_by("-at", "-id").first()
    if latest is None or not latest.passed or timezone.localdate(latest.at) != timezone.localdate():
        return None
    return latest


# --- performing and amending a session (§2, §6) ------------------------------------------------------------


@dataclass(frozen=True)
class SessionRecord:
    performed_at: datetime
    performed_by: object
    device_name: str
    device_settings: dict
    exosome_lot: Lot | None
    exosome_volume_ml: Decimal | None
    exosome_applied: str = ""
    exosome_delivery: str = ""
    delivery_confirmed: bool = False
    delivery_note: str = ""
    zones: str = ""
    anaesthetic: str = ""
    notes: str = ""


def _validate_record(modality: str, record: SessionRecord, *, confirm_warnings: bool, fitzpatrick: int | None) -> dict:
    """Device settings checked by the rules against the patient's skin type (errors refuse, warnings need
    confirming) and the lot usable."""
    errors: dict[str, list[str]] = {}
    check = rules.check_device_settings(
        modality, record.device_settings, rule_config(), for_patient=True, fitzpatrick=fitzpatrick
    )
    for field, message in check.errors.items():
        errors.setdefault(field, []).append(message)
    if check.warnings and not confirm_warnings:
        for field, message in check.warnings.items():
            errors.setdefault(field, []).append(message)
        errors.setdefault("confirm_warnings", []).append(ERR_WARNINGS_UNCONFIRMED)
    if record.performed_at > timezone.now() + timedelta(minutes=5):
        errors.setdefault("performed_at", []).append(ERR_PERFORMED_IN_FUTURE)
    lot_error = lot_usability_error(record.exosome_lot, timezone.localdate(record.performed_at))
    if lot_error:
        errors.setdefault("exosome_lot", []).append(lot_error)
    route = record.exosome_lot.product.route_labelled if record.exosome_lot else ""
    if rules_outcomes.delivery_needs_confirmation(route, record.exosome_delivery):  # S56, S57
        if not record.delivery_confirmed:
            errors.setdefault("delivery_confirmed", []).append(ERR_DELIVERY_UNCONFIRMED)
        if not record.delivery_note.strip():
            errors.setdefault("delivery_note", []).append(ERR_DELIVERY_NOTE)
    if errors:
        raise ValidationError(errors)
    return dict(check.warnings)


def _course_locked(session: TreatmentSession) -> tuple[TreatmentSession, list[TreatmentSession], list[Appointment]]:
    """Lock the plan (as booking does: plan, then session), so two sessions of one course are never recorded
    or skipped at once; return the locked session, all the course's sessions and its live session bookings."""
    Plan.objects.select_for_update().filter(pk=session.plan_id).first()
    session = _session_locked(session)
    sessions = [s if s.pk != session.pk else session for s in TreatmentSession.objects.filter(plan_id=session.plan_id)]
    live = list(Appointment.objects.filter(
        plan_id=session.plan_id, session__isnull=False, status__in=LIVE_APPOINTMENT_STATUSES
    ))
    return session, sessions, live


def _flag_later_bookings(session: TreatmentSession, sessions, live, *, by) -> list[int]:
    """After a recording, later windows follow its actual date (rules.session_windows keeps the interval);
    bookings now outside their window are flagged for the front desk, never moved silently."""
    rows = windows_for(session.plan, sessions, live)
    booked = {
        row.session.number: local_date(row.appointment.start) for row in rows
        if row.appointment is not None and row.appointment.status == AppointmentStatus.BOOKED
    }
    numbers = rules.later_bookings_outside([row.window for row in rows], booked, after=session.number)
    now = timezone.now()
    for row in rows:
        if row.session.number in numbers:
            appointment = row.appointment
            appointment.window_flagged_at = now
            appointment._history_user = by
            appointment._change_reason = f"Outside its window after session {session.number} was recorded"
            appointment.save(update_fields=["window_flagged_at"])
    return numbers


@transaction.atomic
def session_record(
    *, session: TreatmentSession, record: SessionRecord, confirm_warnings: bool, by, out_of_window_reason: str = ""
) -> TreatmentSession:
    """Record what was done; the session becomes completed and from then on changes only by amendment.

    Sessions are recorded in order (rules.record_order_error) and a day outside the session's window needs a
    written reason (rules.outside_window_reason_error), kept with the session. Later bookings left outside
    their new windows are flagged; their numbers are on the returned session as ``later_outside``."""
    session, sessions, live = _course_locked(session)
    _require_active_plan(session)
    if session.status == SessionStatus.COMPLETED:
        raise ValidationError(ERR_SESSION_COMPLETED)
    if session.status not in (SessionStatus.PLANNED, SessionStatus.BLOCKED):
        raise ValidationError(ERR_SESSION_CLOSED.format(status=session.get_status_display().lower()))
    order_error = rules.record_order_error(
        session.number, {s.number: s.status for s in sessions if s.number < session.number}
    )
    if order_error:
        raise ValidationError(order_error)
    if passing_check_today(session) is None:
        raise ValidationError(ERR_NEEDS_PASSING_CHECK)
    warnings = _validate_record(
        session.plan.modality, record, confirm_warnings=confirm_warnings, fitzpatrick=session.plan.patient.fitzpatrick_type
    )
    window = next(row.window for row in windows_for(session.plan, sessions, live) if row.session.pk == session.pk)
    performed_on = timezone.localdate(record.performed_at)
    reason_error = rules.outside_window_reason_error(window, performed_on, out_of_window_reason)
    if reason_error:
        raise ValidationError({"out_of_window_reason": reason_error})
    for name in SESSION_RECORD_FIELDS:
        setattr(session, name, getattr(record, name))
    if warnings:
        session.device_settings = {**record.device_settings, "confirmed_warnings": warnings}
    session.out_of_window_reason = out_of_window_reason.strip() if rules.outside_window(window, performed_on) else ""
    session.modality = session.plan.modality
    session.status = SessionStatus.COMPLETED
    session.completed_at = timezone.now()
    clean_save(session, by=by)
    appointments_complete_for_session(session=session, by=by)
    session.later_outside = _flag_later_bookings(session, sessions, live, by=by)
    return session


SKIPPABLE_STATUSES = (SessionStatus.PLANNED, SessionStatus.BLOCKED, SessionStatus.MISSED)


@transaction.atomic
def session_skip(*, session: TreatmentSession, reason: str, by) -> TreatmentSession:
    """Skip a session still to come, with the reason (kept, with who and when); its open booking is cancelled
    with the same reason. The next session may then be recorded (rules.SESSION_CLOSED_STATES)."""
    if not reason.strip():
        raise ValidationError({"reason": ERR_SKIP_REASON})
    session, _, _ = _course_locked(session)
    _require_active_plan(session)
    if session.status not in SKIPPABLE_STATUSES:
        raise ValidationError(ERR_SKIP_STATUS.format(number=session.number, status=session.get_status_display().lower()))
    session.status = SessionStatus.SKIPPED
    session.closed_reason = reason.strip()
    session.closed_at = timezone.now()
    session.closed_by = by
    session._change_reason = "Skipped"
    clean_save(session, by=by)
    for appointment in Appointment.objects.filter(
        session=session, status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN]
    ):
        appointment_cancel(appointment=appointment, reason=f"Session skipped: {reason.strip()}"[:300], by=by)
    return session


def _snapshot_value(value):
    if isinstance(value, Lot):
        return {"id": value.pk, "label": f"{value.product.name} lot {value.number}"}
    if hasattr(value, "get_username"):
        return {"id": value.pk, "label": _user_label(value)}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 1.50 and 1.5 are the same volume
    return value


def session_snapshot(session: TreatmentSession, fields=SESSION_RECORD_FIELDS) -> dict:
    return {name: _snapshot_value(getattr(session, name)) for name in fields}


@transaction.atomic
def session_amend(
    *, session: TreatmentSession, record: SessionRecord, reason: str, confirm_warnings: bool, by
) -> SessionAmendment:
    """Correct a completed session: the values before and after are kept with the reason, who and when."""
    if not reason.strip():
        raise ValidationError({"reason": ERR_REASON_REQUIRED})
    session = _session_locked(session)
    if session.status != SessionStatus.COMPLETED:
        raise ValidationError(ERR_SESSION_NOT_COMPLETED)
    modality = session.modality or session.plan.modality
    # A lot already on the session stays acceptable (it was usable when given); a new lot must be usable.
    to_check = record if record.exosome_lot != session.exosome_lot else replace(record, exosome_lot=None)
    warnings = _validate_record(
        modality, to_check, confirm_warnings=confirm_warnings, fitzpatrick=session.plan.patient.fitzpatrick_type
    )
    before = session_snapshot(session)
    for name in SESSION_RECORD_FIELDS:
        setattr(session, name, getattr(record, name))
    if warnings:
        session.device_settings = {**record.device_settings, "confirmed_warnings": warnings}
    after = session_snapshot(session)
    changed = [name for name in SESSION_RECORD_FIELDS if before[name] != after[name]]
    if not changed:
        raise ValidationError(ERR_NO_CHANGES)
    session.full_clean()
    amendment = SessionAmendment(
        session=session,
        reason=reason.strip(),
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
        by=by,
    )
    amendment.full_clean()
    # The amendment first: on PostgreSQL a completed session's clinical columns change only in a transaction
    # that has written an amendment for it (trigger completed_session_needs_amendment, clinic/appendonly.py).
    amendment.save()
    session._history_user = by
    session._change_reason = f"Amendment: {reason.strip()}"[:100]
    session.save()
    return amendment


# --- assessments (§1, §9) ------------------------------------------------------------------------------------


def _region_scores(components: dict) -> dict[str, rules.RegionScore]:
    return {
        region: rules.RegionScore(
            area=components[f"{region}_area"],
            darkness=components[f"{region}_darkness"],
            homogeneity=components[f"{region}_homogeneity"],
        )
        for region in rules.MASI_REGIONS
    }


@transaction.atomic
def assessment_record(
    *,
    kind: str,
    taken_on: date,
    components: dict,
    by,
    plan: Plan | None = None,
    session: TreatmentSession | None = None,
    melasqol_items: list[int] | None = None,
    notes: str = "",
) -> Assessment:
    """MASI and mMASI are computed here from the components (S1, S3), never taken from the form."""
    if session is not None:
        plan = session.plan
    if plan is None:
        raise ValidationError(ERR_ASSESSMENT_TARGET)
    if taken_on > timezone.localdate():
        raise ValidationError({"taken_on": ERR_DATE_IN_FUTURE})
    try:
        regions = _region_scores(components)
        masi = rules.masi(regions)  # S1, S2
        mmasi = rules.mmasi(regions)  # S3
        melasqol_total = rules.melasqol(melasqol_items) if melasqol_items else None  # S6
    except (KeyError, ValueError) as exc:
        raise ValidationError(str(exc)) from exc
    assessment = Assessment(
        patient=plan.patient,
        plan=plan,
        session=session,
        kind=kind,
        taken_on=taken_on,
        rater=by,
        masi=masi,
        mmasi=mmasi,
        melasqol_items=list(melasqol_items or []),
        melasqol_total=melasqol_total,
        notes=notes,
        followup_month=_followup_month(plan, kind, taken_on),
        **{name: components[name] for name in MASI_FIELDS},
    )
    clean_save(assessment, by=by)
    return assessment


def _followup_month(plan: Plan, kind: str, taken_on: date) -> int | None:
    """Tag a follow-up with the 1-, 3- or 6-month time point it is (S16), for the outcomes registry."""
    if kind != AssessmentKind.FOLLOW_UP:
        return None
    last = (
        plan.sessions.filter(status=SessionStatus.COMPLETED, performed_at__isnull=False)
        .order_by("-performed_at").values_list("performed_at", flat=True).first()
    )
    last_day = timezone.localtime(last).date() if last else None
    return rules_outcomes.followup_month_for(
        last_day, taken_on, outcome_config(), months=plan.followup_months or None
    )


# --- photos (§9) -----------------------------------------------------------------------------------------------

PHOTO_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}


def photo_check_upload(upload) -> str:
    """The image format ("JPEG"/"PNG") read from the content by Pillow, or ValidationError: the project's one
    image check (clinic.uploads), size and pixel count judged before anything is decoded."""
    try:
        return image_check(upload, formats=tuple(PHOTO_FORMATS), max_bytes=settings.PHOTO_MAX_BYTES)
    except ValidationError as exc:
        if exc.code == "image_bytes":
            raise ValidationError(ERR_PHOTO_TOO_LARGE.format(limit_mb=settings.PHOTO_MAX_BYTES // (1024 * 1024))) from exc
        if exc.code == "image_type":
            raise ValidationError(ERR_PHOTO_TYPE) from exc
        raise


def _reencoded_without_metadata(upload, image_format: str) -> bytes:
    """Only the pixels survive: EXIF (GPS included), XMP, comments and text chunks are dropped. A file whose
    header passed but whose data does not decode (truncated, corrupt EXIF) is refused, not a 500."""
    try:
        with image_decoded(upload) as original:
            image = ImageOps.exif_transpose(original)  # keep the orientation the camera meant, then drop EXIF
        if image.mode == "P" or (image_format == "JPEG" and image.mode not in ("RGB", "L")):
            image = image.convert("RGBA" if image_format == "PNG" else "RGB")
        pixels = Image.frombytes(image.mode, image.size, image.tobytes())  # a fresh image carries no metadata
        out = io.BytesIO()
        if image_format == "JPEG":
            pixels.save(out, format="JPEG", quality=92)
        else:
            pixels.save(out, format="PNG", optimize=True)
    except ValidationError as exc:
        raise ValidationError(ERR_PHOTO_TYPE if exc.code == "image_type" else exc.messages) from exc
    except UNREADABLE_ERRORS as exc:
        raise ValidationError(ERR_PHOTO_TYPE) from exc
    return out.getvalue()


@transaction.atomic
def photo_upload(
    *, patient, view: str, taken_on: date, upload, by, session: TreatmentSession | None = None
) -> Photo:
    try:
        image_format = photo_check_upload(upload)
    except ValidationError as exc:
        raise ValidationError({"image": exc.messages}) from exc
    if taken_on > timezone.localdate():
        raise ValidationError({"taken_on": ERR_DATE_IN_FUTURE})
    content_type, extension = PHOTO_FORMATS[image_format]
    try:
        data = _reencoded_without_metadata(upload, image_format)
    except ValidationError as exc:
        raise ValidationError({"image": exc.messages}) from exc
    photo = Photo(
        patient=patient, session=session, taken_on=taken_on, view=view, content_type=content_type, uploaded_by=by
    )
    # A random name: nothing about the patient in the path.
    photo.image.save(f"{uuid.uuid4().hex}.{extension}", ContentFile(data), save=False)
    try:
        photo.full_clean()
        photo.save()
    except Exception:
        photo.image.storage.delete(photo.image.name)
        raise
    return photo


# --- adverse events (§7) -----------------------------------------------------------------------------------


@transaction.atomic
def adverse_event_record(
    *,
    patient,
    ae_type: str,
    onset_date: date,
    grade: int,
    serious: bool,
    description: str,
    by,
    action_taken: str = "",
    plan: Plan | None = None,
    session: TreatmentSession | None = None,
    lot: Lot | None = None,
    learned_on: date | None = None,
) -> AdverseEvent:
    """Against a session (lot from the session) or between sessions of a plan. learned_on (default today)
    starts the reporting clock of a reportable event (S58)."""
    if session is not None:
        plan = session.plan
        lot = session.exosome_lot if lot is None else lot
    if onset_date > timezone.localdate():
        raise ValidationError({"onset_date": ERR_DATE_IN_FUTURE})
    if ae_type not in rules.AE_TYPE_KEYS:
        raise ValidationError({"ae_type": rules.ERR_UNKNOWN_AE_TYPE.format(ae_type=ae_type)})
    event = AdverseEvent(
        patient=patient,
        plan=plan,
        session=session,
        ae_type=ae_type,
        onset_date=onset_date,
        grade=grade,
        serious=serious,
        description=description,
        action_taken=action_taken,
        lot=lot,
        recorded_by=by,
        learned_on=learned_on,
    )
    report_clock_apply(event)  # S58: due date of a reportable event
    clean_save(event, by=by)
    return event


@transaction.atomic
def adverse_event_add_note(*, event: AdverseEvent, note: str, by) -> AdverseEventNote:
    AdverseEvent.objects.select_for_update().get(pk=event.pk)
    entry = AdverseEventNote(event=event, note=note.strip(), by=by)
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def adverse_event_review(*, event: AdverseEvent, by, note: str = "") -> AdverseEvent:
    """A clinician's review releases the hold on the next session (§9)."""
    event = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    if event.reviewed_at is not None:
        raise ValidationError(ERR_AE_ALREADY_REVIEWED)
    event.reviewed_by = by
    event.reviewed_at = timezone.now()
    event._history_user = by
    event._change_reason = "Reviewed"
    event.full_clean()
    event.save()
    if note.strip():
        AdverseEventNote.objects.create(event=event, note=f"Review: {note.strip()}", by=by)
    return event


@transaction.atomic
def adverse_event_resolve(*, event: AdverseEvent, outcome: str, resolved_on: date | None, by) -> AdverseEvent:
    event = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    if outcome not in (AdverseEventOutcome.RESOLVED, AdverseEventOutcome.RESOLVED_SEQUELAE):
        raise ValidationError({"outcome": ERR_AE_OUTCOME})
    if resolved_on is None:
        raise ValidationError({"resolved_on": ERR_AE_RESOLVED_ON_REQUIRED})
    if resolved_on < event.onset_date:
        raise ValidationError({"resolved_on": ERR_AE_RESOLVED_BEFORE_ONSET})
    if resolved_on > timezone.localdate():
        raise ValidationError({"resolved_on": ERR_DATE_IN_FUTURE})
    event.outcome = outcome
    event.resolved_on = resolved_on
    event._history_user = by
    event._change_reason = "Outcome recorded"
    event.full_clean()
    event.save()
    return event


def _ae_value(event, name):
    value = getattr(event, name)
    if isinstance(value, Lot):
        return f"{value.product.name} lot {value.number}"
    return _snapshot_value(value)


@transaction.atomic
def adverse_event_correct(*, event: AdverseEvent, changes: dict, reason: str, by) -> AdverseEvent:
    """Correct recorded facts: the change is kept in the history and as a note with before/after."""
    if not reason.strip():
        raise ValidationError({"reason": ERR_REASON_REQUIRED})
    event = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    before = {name: _ae_value(event, name) for name in AE_CORRECTABLE_FIELDS}
    for name, value in changes.items():
        if name in AE_CORRECTABLE_FIELDS:
            setattr(event, name, value)
    if event.onset_date > timezone.localdate():
        raise ValidationError({"onset_date": ERR_DATE_IN_FUTURE})
    after = {name: _ae_value(event, name) for name in AE_CORRECTABLE_FIELDS}
    changed = [name for name in AE_CORRECTABLE_FIELDS if before[name] != after[name]]
    if not changed:
        raise ValidationError(ERR_NO_CHANGES)
    report_clock_apply(event)  # a correction can make an event reportable, or no longer
    event._history_user = by
    event._change_reason = f"Correction: {reason.strip()}"[:100]
    event.full_clean()
    event.save()
    lines = [f"{name.replace('_', ' ')}: {before[name]} → {after[name]}" for name in changed]
    AdverseEventNote.objects.create(
        event=event, note=f"Correction ({reason.strip()}):\n" + "\n".join(lines), by=by
    )
    return event


# --- products and lots (§6) ---------------------------------------------------------------------------------


@transaction.atomic
def product_create(
    *, name, manufacturer, source, storage_format, storage_rule, by, route_labelled="topical_only",
    regulatory_status="", clinic_decision="",
) -> ExosomeProduct:
    product = ExosomeProduct(
        name=name, manufacturer=manufacturer, source=source, storage_format=storage_format, storage_rule=storage_rule,
        route_labelled=route_labelled, regulatory_status=regulatory_status, clinic_decision=clinic_decision,
    )
    clean_save(product, by=by)
    return product


@transaction.atomic
def lot_receive(*, product: ExosomeProduct, number: str, expiry_date: date, received_on: date, quantity: int, by) -> Lot:
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": ERR_DATE_IN_FUTURE})
    lot = Lot(product=product, number=number.strip(), expiry_date=expiry_date, received_on=received_on, quantity=quantity)
    clean_save(lot, by=by)
    return lot


@transaction.atomic
def lot_recall(*, lot: Lot, reason: str, by) -> Lot:
    """A recalled lot can no longer be recorded; its where-used list tells whom to contact (S58)."""
    if not reason.strip():
        raise ValidationError({"reason": ERR_RECALL_REASON})
    lot = Lot.objects.select_for_update().get(pk=lot.pk)
    if lot.recalled_at is not None:
        raise ValidationError(ERR_LOT_ALREADY_RECALLED)
    lot.recalled_at = timezone.now()
    lot.recall_reason = reason.strip()
    clean_save(lot, by=by)
    return lot
