"""Reads for aftercare sheets and texts, each a fixed number of queries whatever the data size."""

from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404

from plans.models import LIVE_APPOINTMENT_STATUSES, AftercareSheet, AftercareText, Appointment, TreatmentSession


def aftercare_session_get(*, session_id: int) -> TreatmentSession:
    """The session with everything its sheet shows in one query (the stored sheet included, if any)."""
    queryset = TreatmentSession.objects.select_related(
        "plan__patient", "exosome_lot__product", "performed_by", "aftercare_sheet"
    )
    return get_object_or_404(queryset, pk=session_id)


def aftercare_sheet_for(session: TreatmentSession) -> AftercareSheet | None:
    """The stored sheet of a session fetched by aftercare_session_get (no query)."""
    try:
        return session.aftercare_sheet
    except AftercareSheet.DoesNotExist:
        return None


def aftercare_texts_current(*, sections=None, modalities=None) -> list[AftercareText]:
    """The newest version of each (section, modality) text, optionally narrowed; one query."""
    newest = (
        AftercareText.objects.filter(section=OuterRef("section"), modality=OuterRef("modality"))
        .order_by("-version")
        .values("version")[:1]
    )
    queryset = AftercareText.objects.filter(version=Subquery(newest)).select_related("created_by")
    if sections is not None:
        queryset = queryset.filter(section__in=list(sections))
    if modalities is not None:
        queryset = queryset.filter(modality__in=list(modalities))
    return list(queryset.order_by("section", "modality"))


def aftercare_text_versions(*, section: str, modality: str) -> list[AftercareText]:
    """Every version of one text, newest first."""
    return list(
        AftercareText.objects.filter(section=section, modality=modality)
        .select_related("created_by")
        .order_by("-version")
    )


def aftercare_next_appointment(*, session: TreatmentSession) -> Appointment | None:
    """The plan's next live appointment after this session was performed (not the session's own booking)."""
    if session.performed_at is None:
        return None
    return (
        Appointment.objects.filter(
            plan_id=session.plan_id, status__in=LIVE_APPOINTMENT_STATUSES, start__gt=session.performed_at
        )
        .exclude(session_id=session.pk)
        .order_by("start")
        .first()
    )
