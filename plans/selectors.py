"""Reads for plans, shared by several pages. Area-specific reads live next to their views' areas."""

from plans.models import Plan


def patient_page_context(patient, user) -> dict:
    """What the patient page shows from the plans side, in a fixed number of queries."""
    plans = list(Plan.objects.filter(patient=patient).order_by("-start_date", "-id"))
    return {"plans": plans}
