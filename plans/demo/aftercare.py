"""Demo aftercare: the sheets already handed over for earlier completed sessions.

Today's completed sessions are left without a sheet, so the desk can see one issued on first print.
"""

from django.utils import timezone

from plans.models import SessionStatus, TreatmentSession
from plans.services.aftercare import AftercareError, aftercare_sheet_issue

MAX_SHEETS = 12


def seed(ctx: dict) -> None:
    today = ctx["today"]
    issuers = [ctx["staff"]["clinician"], ctx["staff"]["frontdesk"]]
    sessions = (
        TreatmentSession.objects.filter(status=SessionStatus.COMPLETED, aftercare_sheet__isnull=True)
        .select_related("plan__patient", "exosome_lot__product", "performed_by")
        .order_by("performed_at", "id")
    )
    issued = 0
    for session in sessions:
        moment = session.performed_at or session.completed_at
        if moment is not None and timezone.localdate(moment) >= today:
            continue
        try:
            aftercare_sheet_issue(session=session, by=issuers[issued % len(issuers)])
        except AftercareError:
            continue  # e.g. a session with no modality recorded: the demo skips it rather than fail
        issued += 1
        if issued >= MAX_SHEETS:
            break
    ctx["aftercare_sheets"] = issued
