"""Demo clinic, course step: exosome products and lots, and plans in every state.

Adds to ctx for the later steps: ctx["products"] (list), ctx["lots"] (list; one expired, one recalled),
ctx["plans"] (list of every plan, newest first) and ctx["plans_by_state"] ({state: [plans]}).
Active plans started 10–75 days ago, so some of their sessions are in the past (the visits step marks them
performed) and some fall in the coming weeks (the scheduling step books them).
"""

import datetime as dt

from django.utils import timezone

from plans import rules
from plans.models import ConsentKind, Lot, PlanState, ProtocolTemplate
from plans.selectors import course as selectors
from plans.services import course as services

PRODUCTS = [
    # (name, manufacturer, source, storage format, storage rule) — S59: storage is product-specific [U].
    ("ExoRenew MSC-A", "Dermagen Labs", "msc_adipose", "lyophilized",
     "Store at 2–8 °C. Reconstitute with 5 mL sterile water; use within 4 hours."),
    ("RoseVesicle Topical", "Floral Biotech", "plant", "frozen",
     "Store at −20 °C. Thaw at room temperature; use within 2 hours of thawing; never refreeze."),
    ("CordEx UC Serum", "Umbilica Therapeutics", "msc_umbilical", "frozen",
     "Store at −80 °C. Thaw on ice; use within 1 hour."),
]

STOP_REASONS = [
    "Post-inflammatory hyperpigmentation after session 2: energy devices paused, topicals stepped up; next session held until the reaction settles.",
    "Patient moved abroad and will continue care there.",
    "Patient reported a new pregnancy: energy-device treatment deferred.",
]
DISCARD_REASON = "Patient chose to continue with sunscreen and creams only for now."
OVERRIDE_REASONS = {
    rules.FindingKind.RELATIVE: "Discussed with the patient; conservative settings and a test spot; documented.",
    rules.FindingKind.ADJUNCT: "Prescriber reviewed: benefit outweighs risk; patient informed and monitored.",
}
# The state of the plan for demo patient n (0-based); patients after these have no plan.
STATE_PLAN = (
    [PlanState.ACTIVE] * 14 + [PlanState.DRAFT] * 6 + [PlanState.COMPLETED] * 5 + [PlanState.STOPPED] * 3
    + ["discarded"]
)
MODALITY_CYCLE = [rules.MICRONEEDLING, rules.MICRONEEDLING, rules.NAFL, rules.RF_MICRONEEDLING]


def seed(ctx: dict) -> None:
    today, rng, staff = ctx["today"], ctx["rng"], ctx["staff"]
    products, lots = _products_and_lots(today, staff["manager"])
    templates = _templates_with_products(products, staff["manager"])
    plans = []
    for index, (patient, state) in enumerate(zip(ctx["patients"], STATE_PLAN, strict=False)):
        modality = MODALITY_CYCLE[index % len(MODALITY_CYCLE)]
        clinician = staff["clinician"] if index % 3 else staff["clinician2"]
        plans.append(_plan(patient, state, templates[modality], clinician, today, rng))
    plans.sort(key=lambda p: (p.start_date, p.pk), reverse=True)
    ctx["products"], ctx["lots"], ctx["plans"] = products, lots, plans
    ctx["plans_by_state"] = {state: [p for p in plans if p.state == state] for state in PlanState.values}


def _products_and_lots(today, manager):
    from tests.factories import ExosomeProductFactory, LotFactory

    products, lots = [], []
    for n, (name, manufacturer, source, storage_format, rule) in enumerate(PRODUCTS):
        product = ExosomeProductFactory(
            name=name, manufacturer=manufacturer, source=source, storage_format=storage_format, storage_rule=rule
        )
        products.append(product)
        prefix = "".join(word[0] for word in name.split()[:2]).upper()
        lots.append(LotFactory(product=product, number=f"{prefix}-{today.year}-{n + 1:02d}A", quantity=40,
                               received_on=today - dt.timedelta(days=60), expiry_date=today + dt.timedelta(days=300)))
        lots.append(LotFactory(product=product, number=f"{prefix}-{today.year}-{n + 1:02d}B", quantity=25,
                               received_on=today - dt.timedelta(days=10), expiry_date=today + dt.timedelta(days=420)))
    # One expired lot still on the shelf, and one recalled lot, so the lot checks have something to refuse.
    lots.append(LotFactory(product=products[0], number=f"EM-{today.year - 1}-07X", quantity=6,
                           received_on=today - dt.timedelta(days=400), expiry_date=today - dt.timedelta(days=21)))
    recalled = LotFactory(product=products[1], number=f"RT-{today.year}-03R", quantity=12,
                          received_on=today - dt.timedelta(days=90), expiry_date=today + dt.timedelta(days=200))
    Lot.objects.filter(pk=recalled.pk).update(
        recalled_at=timezone.now() - dt.timedelta(days=5),
        recall_reason="Manufacturer recall: vesicle count below specification in this batch.",
    )
    recalled.refresh_from_db()
    lots.append(recalled)
    return products, lots


def _templates_with_products(products, manager) -> dict:
    """The shipped templates (one per modality), each given a default exosome product."""
    templates = {}
    for modality, product in zip((rules.MICRONEEDLING, rules.NAFL, rules.RF_MICRONEEDLING), products, strict=True):
        template = ProtocolTemplate.objects.filter(modality=modality).order_by("pk").first()
        if template is None:  # a database flushed after migrating: rebuild from the migration's specs
            from importlib import import_module

            spec = next(s for s in import_module("plans.migrations.0006_course_protocol_templates_v1").TEMPLATES if s["modality"] == modality)
            template = ProtocolTemplate.objects.create(**spec, **_template_defaults())
        if template.exosome_product_id is None:
            template = services.protocol_template_save(template=template, by=manager, exosome_product=product)
        templates[modality] = template
    _consent_texts()
    return templates


def _template_defaults():
    from importlib import import_module

    migration = import_module("plans.migrations.0006_course_protocol_templates_v1")
    return {**migration.COURSE, **migration.SUN}


def _consent_texts():
    from importlib import import_module

    from plans.models import ConsentText

    texts = import_module("plans.migrations.0005_course_consent_texts_v1").TEXTS
    for kind, (title, paragraphs) in texts.items():
        if not ConsentText.objects.filter(kind=kind).exists():
            ConsentText.objects.create(kind=kind, version=1, title=title, body="\n\n".join(paragraphs))


def _plan(patient, state, template, clinician, today, rng):
    if state in (PlanState.ACTIVE, PlanState.STOPPED):
        start = today - dt.timedelta(days=rng.randint(10, 75))
    elif state == PlanState.COMPLETED:
        start = today - dt.timedelta(days=rng.randint(200, 320))
    else:
        start = today + dt.timedelta(days=rng.randint(7, 28))
    settings = rules.conservative_device_settings(template.modality, patient.fitzpatrick_type, template.device_settings)
    adjuncts = [dict(row) for row in template.adjuncts]
    if state == PlanState.DRAFT and rng.random() < 0.5:
        adjuncts.append({"agent": rules.TXA_ORAL, "strength": "250 mg", "frequency": "twice daily",
                         "pause_days_before": 0, "notes": "After a baseline coagulation profile."})  # S46
    plan = services.plan_create(
        patient=patient, by=clinician, template=template, adjuncts=adjuncts,
        modality=template.modality, device_name=template.device_name, device_settings=settings,
        sessions_planned=template.sessions, interval_days=template.interval_days,
        window_before_days=template.window_before_days, window_after_days=template.window_after_days,
        start_date=start, exosome_product=template.exosome_product, followup_months=template.followup_months,
        spf=template.spf, broad_spectrum=template.broad_spectrum, tinted_iron_oxide=template.tinted_iron_oxide,
        reapply_hours=template.reapply_hours, sun_notes=template.sun_notes,
        goals=rng.choice(["Even out malar pigment before summer.", "Lighter forehead and cheeks; fewer flares.",
                          "Reduce mMASI by half; keep results with maintenance."]),
    )
    if state == "discarded":
        return services.plan_stop(plan=plan, reason=DISCARD_REASON, by=clinician)
    if state == PlanState.DRAFT:
        return plan  # drafts keep their findings, consent still to do

    findings = selectors.plan_findings(plan, today)
    if any(f.kind is rules.FindingKind.ABSOLUTE for f in findings):
        return plan  # an absolute contraindication: the plan stays a draft, blocked
    for finding in findings:
        if finding.blocks_activation:
            services.finding_override_record(plan=plan, code=finding.code, reason=OVERRIDE_REASONS[finding.kind], by=clinician)
    signed = timezone.make_aware(dt.datetime.combine(start - dt.timedelta(days=3), dt.time(10, 30)))
    for kind in (plan.modality, ConsentKind.EXOSOME):
        services.consent_record(
            plan=plan, text=selectors.current_consent_text(kind), patient_printed_name=patient.full_name,
            signature=patient.full_name, patient_confirms=True, witness_name="Nurse Grace Palmer", signed_at=signed,
            by=clinician,
        )
    plan = services.plan_activate(plan=plan, by=clinician, today=today, now=signed + dt.timedelta(minutes=20))
    if state == PlanState.COMPLETED:
        last = start + dt.timedelta(days=plan.interval_days * (plan.sessions_planned - 1))
        return services.plan_complete(plan=plan, by=clinician, now=timezone.make_aware(dt.datetime.combine(last, dt.time(17))))
    if state == PlanState.STOPPED:
        return services.plan_stop(plan=plan, reason=rng.choice(STOP_REASONS), by=clinician)
    return plan
