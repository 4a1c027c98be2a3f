"""Reads for the plans pages, one module per area (course, visits, scheduling, aftercare).

Pages owned by one area show panels from the others through small registries, so each area keeps its
own queries: an area calls ``register_plan_panel`` / ``register_patient_panel`` / ``register_session_panel``
at import time (from its selectors module) with a template and a function returning that panel's context
(or None to hide it for this user). Every panel must cost a fixed number of queries.
"""

from plans.models import Plan

_PANELS: dict[str, list[tuple[str, object]]] = {"plan": [], "patient": [], "session": []}


def _register(page: str, template: str, context_fn) -> None:
    if template not in [t for t, _ in _PANELS[page]]:
        _PANELS[page].append((template, context_fn))


def register_plan_panel(template, context_fn):
    _register("plan", template, context_fn)


def register_patient_panel(template, context_fn):
    _register("patient", template, context_fn)


def register_session_panel(template, context_fn):
    _register("session", template, context_fn)


def panels_for(page: str, obj, user) -> list[dict]:
    """[{"template": ..., **context}] for the panels of one page; area selectors are imported first."""
    _import_areas()
    shown = []
    for template, context_fn in _PANELS[page]:
        context = context_fn(obj, user)
        if context is not None:
            shown.append({"template": template, **context})
    return shown


def _import_areas():
    import importlib

    for name in ("course", "visits", "scheduling", "aftercare"):
        try:
            importlib.import_module(f"plans.selectors.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"plans.selectors.{name}":
                raise


def patient_page_context(patient, user) -> dict:
    """What the patient page shows from the plans side, in a fixed number of queries."""
    # Only what the course list shows of each plan.
    plans = list(
        Plan.objects.filter(patient=patient).order_by("-start_date", "-id")
        .only("patient_id", "modality", "sessions_planned", "start_date", "state")
    )
    return {"plans": plans, "patient_panels": panels_for("patient", patient, user)}
