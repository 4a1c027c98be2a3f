"""Reads for the dashboard. Each role sees the panels that fit its work; each panel costs a fixed number of
queries. An area adds a panel with ``register_panel(template, context_fn)``; the panel is shown when
``context_fn(user)`` returns a dict (None hides it, e.g. for a role without the permission)."""

import datetime as dt

from django.utils import timezone

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


# --------------------------------------------------------------------------- audit: access log, staff changes


def access_log_entries(*, patient=None, user=None, date_from=None, date_to=None):
    """Access-log rows, newest first, with their staff member and patient (one query per page). Dates are the
    clinic's local calendar days, both ends included."""
    from clinic.models import AccessLog

    entries = AccessLog.objects.select_related("user", "patient").order_by("-at", "-id")
    if patient is not None:
        entries = entries.filter(patient=patient)
    if user is not None:
        entries = entries.filter(user=user)
    if date_from is not None:
        entries = entries.filter(at__gte=local_day_start(date_from))
    if date_to is not None:
        entries = entries.filter(at__lt=local_day_start(date_to + dt.timedelta(days=1)))
    return entries


def local_day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the clinic's time zone (an aware datetime; DST-safe)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def staff_changes(*, member=None):
    from clinic.models import StaffChange

    changes = StaffChange.objects.select_related("member", "by").order_by("-at", "-id")
    return changes.filter(member=member) if member is not None else changes
