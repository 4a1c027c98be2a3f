"""Demo clinic, outcomes step: the registry's history — 60 courses completed over the last two years, with
their sessions (lots used), scores at every session and follow-ups at 1, 3 and 6 months, so each panel of the
outcomes page has groups large enough for a rate. Responses vary by modality and skin type; some responders
relapse at 3 months (S16, S78). Uses ctx["patients"], ctx["lots"] and ctx["staff"]."""

import datetime as dt

from django.utils import timezone

from plans import rules
from plans.demo.visits import _baseline_components, _improved
from plans.models import ExosomeProduct, Lot, ProtocolTemplate, Plan, PlanAdjunct, PlanState, SessionStatus, TreatmentSession
from plans.services import visits as services

REGISTRY_COURSES = 60
MODALITIES = [rules.MICRONEEDLING, rules.MICRONEEDLING, rules.NAFL, rules.RF_MICRONEEDLING]
# Usual end-of-course severity (1 = baseline) per modality; darker skin responds a little less (S18, S73).
END_SEVERITY = {rules.MICRONEEDLING: 0.45, rules.NAFL: 0.4, rules.RF_MICRONEEDLING: 0.55}


def seed(ctx: dict) -> None:
    today, rng, staff = ctx["today"], ctx["rng"], ctx["staff"]
    products = sorted({lot.product for lot in (ctx.get("lots") or Lot.objects.select_related("product"))}, key=lambda p: p.pk)
    if not products or not ctx.get("patients"):
        return
    _regulatory_facts(products)
    lots = _historic_lots(products, today)
    ctx["registry_lots"] = lots
    for index in range(REGISTRY_COURSES):
        patient = ctx["patients"][(index * 7) % len(ctx["patients"])]
        modality = MODALITIES[index % len(MODALITIES)]
        product = products[index % len(products)]
        start = today - dt.timedelta(days=rng.randint(200, 720))
        _course(patient, modality, product, lots, start, today, rng, staff["clinician"] if index % 3 else staff["clinician2"], index)
    _serious_events(ctx, today, staff["clinician"])
    _maintenance_template(staff["manager"])
    _troubled_lot(lots, staff["clinician"])


def _regulatory_facts(products):
    """§6: no exosome product is FDA-approved; the clinic uses them topically on treated skin (S56, S57)."""
    for product in products:
        ExosomeProduct.objects.filter(pk=product.pk).update(
            route_labelled="topical_only",
            regulatory_status="Not FDA-approved; marketed as a cosmetic for topical use",
            clinic_decision="Topical use on skin treated with an energy device, with written consent; never injected.",
        )


def _historic_lots(products, today) -> list[Lot]:
    """Three earlier lots of each product, received 25, 17 and 9 months ago, each good for 10 months."""
    lots = []
    for product in products:
        for number, days_ago in enumerate((760, 520, 280), start=1):
            received = today - dt.timedelta(days=days_ago)
            lots.append(Lot.objects.create(
                product=product, number=f"H{received:%y%m}-{product.pk:02d}{number}", received_on=received,
                expiry_date=received + dt.timedelta(days=300), quantity=40,
            ))
    return lots


def _course(patient, modality, product, lots, start, today, rng, clinician, index):
    sessions_done = rng.choice([3, 4, 4])
    plan = Plan.objects.create(
        patient=patient, modality=modality, sessions_planned=sessions_done, start_date=start,
        exosome_product=product, followup_months=[1, 3, 6], state=PlanState.COMPLETED, created_by=clinician,
        approved_by=clinician, activated_at=timezone.make_aware(dt.datetime.combine(start, dt.time(9))),
        device_name={"nafl": "Fraxel 1927", "rf_microneedling": "Sylfirm X"}.get(modality, "Dermapen 4"),
    )
    if rng.random() < 0.5:
        PlanAdjunct.objects.create(plan=plan, agent=rules.HYDROQUINONE, strength="4%", frequency="nightly", pause_days_before=5)
    if rng.random() < 0.25:
        PlanAdjunct.objects.create(plan=plan, agent=rules.TXA_ORAL, strength="250 mg", frequency="twice daily")
    baseline = _baseline_components(rng)
    services.assessment_record(plan=plan, kind="baseline", taken_on=start - dt.timedelta(days=7), components=baseline, by=clinician)
    darker = (patient.fitzpatrick_type or 3) >= 4
    end_severity = END_SEVERITY[modality] + (0.1 if darker else 0) + rng.uniform(-0.25, 0.25)
    usable = [lot for lot in lots if lot.product_id == product.pk] or lots
    last_day = start
    for number in range(1, sessions_done + 1):
        day = start + dt.timedelta(days=28 * (number - 1))
        last_day = day
        lot = next((lot for lot in usable if lot.received_on <= day <= lot.expiry_date), usable[0])
        if number > 1:
            severity = 1 - (1 - end_severity) * (number - 1) / (sessions_done - 1)
            services.assessment_record(
                plan=plan, kind="pre_session", taken_on=day, components=_improved(baseline, max(0.1, severity)), by=clinician,
            )
        TreatmentSession.objects.create(
            plan=plan, number=number, status=SessionStatus.COMPLETED, modality=modality, device_name=plan.device_name,
            performed_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10, 30))), performed_by=clinician,
            exosome_lot=lot, exosome_volume_ml=1, completed_at=timezone.make_aware(dt.datetime.combine(day, dt.time(11))),
        )
    Plan.objects.filter(pk=plan.pk).update(ended_at=timezone.make_aware(dt.datetime.combine(last_day, dt.time(12))))
    relapses = index % 4 == 0  # one course in four drifts back after stopping (S16, S78)
    for month, drift in ((1, -0.05), (3, 0.35 if relapses else 0.0), (6, 0.45 if relapses else 0.05)):
        day = rules.add_months(last_day, month) + dt.timedelta(days=rng.randint(-5, 5))
        if day > today:
            break
        services.assessment_record(
            plan=plan, kind="follow_up", taken_on=day, components=_improved(baseline, min(1.0, end_severity + drift)),
            by=clinician,
        )


def _serious_events(ctx, today, clinician):
    """The reporting clock (S58): one serious event learned of this week (due in 15 business days), one
    learned of a month ago and still not reported (overdue), and one reported with its kept report."""
    from plans.services import reporting

    recent = [p for p in Plan.objects.filter(state=PlanState.COMPLETED).select_related("patient").order_by("-start_date")[:3]]
    specs = [
        (3, "bacterial_infection", True, "Impetiginised crusts on both cheeks 4 days after the session.", "Oral flucloxacillin 7 days."),
        (32, "burn_blister", False, "Grade 3 blistering along the malar passes; painful, limits self-care.", "Silver sulfadiazine; reviewed daily."),
        (60, "contact_dermatitis_granuloma", True, "Persistent papules at treated sites weeks after the course.", "Intralesional steroid; referred to dermatology."),
    ]
    for plan, (days_ago, ae_type, serious, description, action) in zip(recent, specs, strict=False):
        learned = today - dt.timedelta(days=days_ago)
        session = plan.sessions.order_by("-number").first()
        event = services.adverse_event_record(
            patient=plan.patient, plan=plan, session=session, ae_type=ae_type, onset_date=learned - dt.timedelta(days=1),
            grade=3, serious=serious, description=description, action_taken=action, by=clinician, learned_on=learned,
        )
        if days_ago == 60:
            reporting.adverse_event_report_generate(event=event, criteria=["significant_disfigurement"], by=clinician)
            reporting.adverse_event_mark_reported(
                event=event, reported_at=timezone.make_aware(dt.datetime.combine(learned + dt.timedelta(days=6), dt.time(15))),
                how="medwatch_online", reference="MW-DEMO-0001", by=clinician,
            )


def _troubled_lot(lots, clinician):
    """One historic lot with more reactions than its siblings (batches vary, S59, S60): prolonged erythema
    and PIH after a third of its sessions, so the lot list, lot page and dashboard show a rate signal."""
    lot = max(lots, key=lambda candidate: candidate.sessions.count())
    sessions = list(lot.sessions.select_related("plan__patient").order_by("performed_at"))
    for session in sessions[::3]:
        day = timezone.localtime(session.performed_at).date() + dt.timedelta(days=2)
        event = services.adverse_event_record(
            patient=session.plan.patient, session=session, ae_type="pih" if session.number % 2 else "erythema",
            onset_date=day, grade=2, serious=False, learned_on=day, by=clinician,
            description="Redness and darkening beyond the expected course; settled with topical care.",
            action_taken="Energy devices paused; photoprotection and topicals stepped up.",
        )
        services.adverse_event_review(event=event, by=clinician)
        services.adverse_event_resolve(event=event, outcome="resolved", resolved_on=day + dt.timedelta(days=21), by=clinician)


def _maintenance_template(manager):
    """What "Plan a maintenance course" starts from: optional monthly RF microneedling maintenance (S25)."""
    from plans.services import course as course_services

    if not ProtocolTemplate.objects.filter(name__istartswith="maintenance").exists():
        course_services.protocol_template_save(
            by=manager, name="Maintenance: RF microneedling, monthly × 2", modality=rules.RF_MICRONEEDLING, sessions=2,
            interval_days=28, device_name="Sylfirm X", followup_months=[1, 3],
            device_settings={"needle_depth_mm": 1.0, "power_level": 15, "pulse_duration_ms": 100, "pins": 49,
                             "passes": 2, "electrode_type": "insulated", "cooling": True},
            # S25, S50, S78: monthly maintenance, photoprotection, intermittent topicals.
            notes="Short course after relapse; keep strict photoprotection and intermittent topicals.",
        )
