"""Reads for the dashboard. Each role sees the panels that fit its work; each panel costs a fixed number of
queries. An area adds a panel with ``register_panel(template, context_fn)``; the panel is shown when
``context_fn(user)`` returns a dict (None hides it, e.g. for a role without the permission)."""

from patients.models import Patient

_PANELS: list[tuple[str, object]] = []


def register_panel(template: str, context_fn) -> None:
    if template not in [t for t, _ in _PANELS]:
        _PANELS.append((template, context_fn))


def dashboard_context(user) -> dict:
    context = {"recent_patients": list(Patient.objects.current().order_by("-updated_at")[:8]), "dashboard_panels": []}
    for template, context_fn in _PANELS:
        extra = context_fn(user)
        if extra is not None:
            context.update(extra)
            context["dashboard_panels"].append(template)
    return context
