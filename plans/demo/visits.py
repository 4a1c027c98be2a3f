"""Demo clinic, visits step: what happened at the visits of the course step's plans.

For every plan that was activated: a baseline assessment, and each session whose date has passed performed
(pre-session check, a pre-session assessment with mMASI improving, device settings, an exosome lot usable on
that day). Completed plans also get a follow-up assessment. A few adverse events: one open and not reviewed
(it holds that patient's next session), one open and reviewed, one resolved, one grade 3 (flagged for
reporting). Uses ctx["plans"] and ctx["lots"] from the course step, or makes its own when run alone.

Adds ctx["adverse_events"] for the later steps.
"""

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from plans import rules
from plans.forms.visits import device_initial, modality_fields
from plans.models import Lot, Plan, PlanState, PreSessionCheck, SessionStatus, TreatmentSession
from plans.services import visits as services

REGIONS = rules.MASI_REGIONS
# Safe fallbacks when a plan's settings leave a required field empty (§2; within the published ranges).
REQUIRED_DEFAULTS = {
    rules.MICRONEEDLING: {"depth_forehead_mm": 0.5, "depth_malar_mm": 0.5, "depth_chin_mm": 0.5, "passes": 3,
                          "endpoint": "erythema", "device_type": "pen", "speed": 8},
    rules.NAFL: {"wavelength_nm": 1927, "energy_mj": 10, "density_percent": 15, "passes": 6, "cooling": True,
                 "tip": "15 mm roller"},
    rules.RF_MICRONEEDLING: {"needle_depth_mm": 1.0, "power_level": 15, "pulse_duration_ms": 100, "pins": 49,
                             "passes": 2, "electrode_type": "insulated", "cooling": True},
}
ANAESTHETICS = ["Topical lidocaine 4% (30 min)", "Topical lidocaine/prilocaine (45 min)", "None needed"]
ZONES = ["Full face", "Forehead, malar and chin", "Malar and upper lip"]


def seed(ctx: dict) -> None:
    today, rng, staff = ctx["today"], ctx["rng"], ctx["staff"]
    plans = ctx.get("plans") or _standalone_plans(ctx)
    lots = list(ctx.get("lots") or Lot.objects.select_related("product"))
    performed: list[TreatmentSession] = []
    for plan in sorted(plans, key=lambda p: p.pk):
        if plan.state not in (PlanState.ACTIVE, PlanState.COMPLETED, PlanState.STOPPED) or plan.activated_at is None:
            continue
        performed += _visits_for(plan, lots, today, rng, staff)
    if len(ctx.get("patients", [])) and performed:
        _photos(performed, staff["clinician"], rng)
    ctx["adverse_events"] = _adverse_events(performed, today, staff)
    _hand_on_fresh_plans(ctx)


def _hand_on_fresh_plans(ctx: dict) -> None:
    """The course step's plan objects may carry prefetched sessions from before this step performed them:
    give the later steps fresh ones (same order)."""
    if not ctx.get("plans"):
        return
    fresh = Plan.objects.select_related("patient").in_bulk([p.pk for p in ctx["plans"]])
    ctx["plans"] = [fresh[p.pk] for p in ctx["plans"]]
    if "plans_by_state" in ctx:
        ctx["plans_by_state"] = {
            state: [fresh[p.pk] for p in plans] for state, plans in ctx["plans_by_state"].items()
        }


def _standalone_plans(ctx):
    """Run on its own (no course step): two active courses with their sessions."""
    from tests.factories import LotFactory, PlanFactory, TreatmentSessionFactory

    today, staff = ctx["today"], ctx["staff"]
    lot = LotFactory(received_on=today - dt.timedelta(days=120), expiry_date=today + dt.timedelta(days=300))
    ctx.setdefault("lots", [lot])
    plans = []
    for index, patient in enumerate(ctx["patients"][:2]):
        plan = PlanFactory(
            patient=patient, state=PlanState.ACTIVE, start_date=today - dt.timedelta(days=60 + 10 * index),
            created_by=staff["clinician"], exosome_product=lot.product, activated_at=timezone.now(),
        )
        for number in range(1, plan.sessions_planned + 1):
            TreatmentSessionFactory(plan=plan, number=number)
        plans.append(plan)
    return plans


def _baseline_components(rng) -> dict:
    """Baseline region scores (area, darkness, homogeneity): malar heaviest, chin lightest (S1)."""
    base = {"forehead": (3, 2, 2), "right_malar": (4, 3, 2), "left_malar": (4, 3, 2), "chin": (1, 1, 1)}
    values = {}
    for region in REGIONS:
        area, dark, homog = base[region]
        values |= {
            f"{region}_area": max(1, min(6, area + rng.choice([-1, 0, 0, 1]))),
            f"{region}_darkness": max(1, min(4, dark + rng.choice([0, 0, 1]))),
            f"{region}_homogeneity": homog,
        }
    return values


def _improved(baseline: dict, severity: float) -> dict:
    """The baseline scaled down (severity 1 = baseline): area shrinks first, darkness fades more slowly."""
    values = {}
    for key, value in baseline.items():
        factor = severity if key.endswith("_area") else 0.5 + severity / 2
        values[key] = max(0, round(value * factor))
    return values


def _lot_for(plan, day, lots):
    usable = [
        lot for lot in lots
        if lot.product_id == plan.exosome_product_id and services.lot_usability_error(lot, day) is None
    ]
    in_stock = [lot for lot in usable if lot.received_on <= day]
    if in_stock:
        return in_stock[0]
    if usable:
        return usable[0]
    from tests.factories import LotFactory  # an older lot, expired since, that was usable then

    lot = LotFactory(
        product=plan.exosome_product, number=f"OLD-{plan.exosome_product_id}-{day:%y%m}", quantity=30,
        received_on=day - dt.timedelta(days=30), expiry_date=day + dt.timedelta(days=150),
    )
    lots.append(lot)
    return lot


def _settings_for(plan) -> dict:
    fields = modality_fields(plan.modality)
    values = {**REQUIRED_DEFAULTS[plan.modality]}
    values.update(device_initial(plan.modality, plan.device_settings, plan.patient.fitzpatrick_type))
    values = {k: v for k, v in values.items() if k in fields and k not in ("note",)}
    if rules.check_device_settings(plan.modality, values).warnings or not rules.check_device_settings(plan.modality, values).ok:
        values = dict(REQUIRED_DEFAULTS[plan.modality])
    return values


def _visits_for(plan, lots, today, rng, staff) -> list[TreatmentSession]:
    clinician = plan.created_by
    sessions = list(TreatmentSession.objects.filter(plan=plan).order_by("number"))
    baseline = _baseline_components(rng)
    services.assessment_record(
        plan=plan, kind="baseline", taken_on=min(plan.start_date - dt.timedelta(days=7), today),
        components=baseline, melasqol_items=[rng.randint(3, 6) for _ in range(10)], by=clinician,
        notes="Standardised cross-polarised photos taken.",
    )
    # Active courses leave a session whose window is still open undone: it is on today's list at the desk.
    last_target = today - dt.timedelta(days=plan.window_after_days if plan.state == PlanState.ACTIVE else 0)
    due = [s for s in sessions
           if plan.start_date + dt.timedelta(days=plan.interval_days * (s.number - 1)) < last_target]
    if plan.state == PlanState.STOPPED:
        due = due[:2]
    performed = []
    for session in due:
        day = plan.start_date + dt.timedelta(days=plan.interval_days * (session.number - 1) + rng.randint(-1, 2))
        day = min(day, today - dt.timedelta(days=1))
        if session.number > 1:
            services.assessment_record(
                session=session, kind="pre_session", taken_on=day,
                components=_improved(baseline, max(0.35, 1 - 0.2 * (session.number - 1))), by=clinician,
            )
        performed.append(_perform(plan, session, day, lots, clinician, rng))
    if plan.state == PlanState.COMPLETED and performed:
        follow_up = performed[-1].performed_at.date() + dt.timedelta(days=30)
        if follow_up <= today:
            services.assessment_record(
                plan=plan, kind="follow_up", taken_on=follow_up, components=_improved(baseline, 0.4),
                melasqol_items=[rng.randint(1, 3) for _ in range(10)], by=clinician,
            )
    return performed


def _perform(plan, session, day, lots, clinician, rng) -> TreatmentSession:
    when = timezone.make_aware(dt.datetime.combine(day, dt.time(9 + session.number % 6, 30)))
    record = services.SessionRecord(
        performed_at=when, performed_by=clinician, device_name=plan.device_name or "Clinic device",
        device_settings=_settings_for(plan), exosome_lot=_lot_for(plan, day, lots),
        exosome_volume_ml=rng.choice([1, 1.5, 2]), exosome_applied="during the procedure",
        zones=rng.choice(ZONES), anaesthetic=rng.choice(ANAESTHETICS),
        notes=rng.choice(["Tolerated well; mild erythema at the end.", "Endpoint reached; no bleeding.", ""]),
    )
    if plan.state == PlanState.ACTIVE:
        check = services.pre_session_check_record(session=session, answers=_clear_answers(plan), by=clinician)
        session = services.session_record(session=session, record=record, confirm_warnings=True, by=clinician,
                                           out_of_window_reason="Demo course: the patient came on this day.")
    else:
        # Completed and stopped courses are history now: write what was done then, as the services would have.
        check = PreSessionCheck.objects.create(session=session, passed=True, by=clinician,
                                               antiviral_taken=True if plan.patient.hsv_history else None)
        for name in services.SESSION_RECORD_FIELDS:
            setattr(session, name, getattr(record, name))
        session.modality, session.status, session.completed_at = plan.modality, SessionStatus.COMPLETED, when
        session._history_user = clinician
        session.full_clean()
        session.save()
    PreSessionCheck.objects.filter(pk=check.pk).update(at=when - dt.timedelta(minutes=20))
    return session


def _clear_answers(plan) -> rules.PreSessionAnswers:
    return rules.PreSessionAnswers(
        pregnant=False, new_medicines="", recent_sun_or_tan=False, active_lesion_or_infection=False,
        topical_pauses_kept=True, antiviral_taken=True if plan.patient.hsv_history else None,
    )


def _photo_bytes(rng, shade: int) -> bytes:
    image = Image.new("RGB", (240, 300), (224, 186 - shade, 160 - shade))
    for _ in range(12):  # a few darker patches standing in for pigment
        x, y = rng.randint(20, 200), rng.randint(40, 240)
        image.paste((160 - shade, 120 - shade, 100 - shade), (x, y, x + 18, y + 12))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _photos(performed, clinician, rng) -> None:
    """Front view at the first and latest session of a few courses, to show baseline vs latest."""
    by_plan: dict[int, list[TreatmentSession]] = {}
    for session in performed:
        by_plan.setdefault(session.plan_id, []).append(session)
    for sessions in [s for s in by_plan.values() if len(s) >= 2][:4]:
        for session, shade in ((sessions[0], 40), (sessions[-1], 10)):
            services.photo_upload(
                patient=session.plan.patient, session=session, view="front", taken_on=session.performed_at.date(),
                upload=SimpleUploadedFile("demo.jpg", _photo_bytes(rng, shade), "image/jpeg"), by=clinician,
            )


def _adverse_events(performed, today, staff) -> list:
    clinician = staff["clinician"]
    active = [s for s in performed if s.plan.state == PlanState.ACTIVE]
    finished = [s for s in performed if s.plan.state != PlanState.ACTIVE]
    events = []

    def record(session, **fields):
        onset = min(session.performed_at.date() + dt.timedelta(days=fields.pop("after_days")), today)
        event = services.adverse_event_record(
            patient=session.plan.patient, session=session, onset_date=onset, by=session.performed_by or clinician, **fields
        )
        events.append(event)
        return event

    latest_first = sorted(active, key=lambda s: s.performed_at, reverse=True)
    if latest_first:  # open, not reviewed: holds this patient's next session
        record(latest_first[0], after_days=1, ae_type=rules.AE_ERYTHEMA, grade=1, serious=False,
               description="Redness still present on day 4, beyond the expected 72 hours; no pain or pus.",
               action_taken="Bland moisturiser, cool compresses; photo requested.")
    if len(latest_first) > 2:  # open, reviewed: PIH under watch
        pih = record(latest_first[2], after_days=18, ae_type=rules.AE_PIH, grade=2, serious=False,
                     description="New darker patches on both malar areas three weeks after the session.",
                     action_taken="Energy device paused; hydroquinone 4% nightly and tinted SPF 50; next session held until the reaction settles.")
        services.adverse_event_review(event=pih, by=clinician, note="Next session deferred until the PIH fades.")
        services.adverse_event_add_note(event=pih, note="Two-week call: patches a little lighter.", by=clinician)
    if len(latest_first) > 4:  # resolved
        edema = record(latest_first[4], after_days=1, ae_type=rules.AE_EDEMA, grade=1, serious=False,
                       description="Periorbital swelling the morning after.", action_taken="Head raised, cold compresses.")
        services.adverse_event_review(event=edema, by=clinician)
        services.adverse_event_resolve(event=edema, outcome="resolved", resolved_on=edema.onset_date + dt.timedelta(days=3), by=clinician)
    if finished:  # grade 3: flagged for reporting, linked to its lot
        granuloma = record(finished[0], after_days=12, ae_type=rules.AE_CONTACT_DERMATITIS_GRANULOMA, grade=3, serious=False,
                           description="Firm papules and plaques at the needling sites 12 days after the session.",
                           action_taken="Referred to dermatology; oral antibiotics and intralesional steroid.")
        services.adverse_event_review(event=granuloma, by=clinician)
        services.adverse_event_add_note(event=granuloma, note="Manufacturer informed with the lot number.", by=clinician)
        resolved_on = min(granuloma.onset_date + dt.timedelta(days=70), today)
        services.adverse_event_resolve(event=granuloma, outcome="resolved_sequelae", resolved_on=resolved_on, by=clinician)
    return events
