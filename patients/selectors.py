"""Reads of patients. Search covers name, medical record number, phone and date of birth."""

import re
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from django.urls import reverse

from patients.models import Patient

_DIGITS = re.compile(r"\D")
# What a list of patients shows (patients/includes/patient_rows.html).
LIST_FIELDS = ("mrn", "first_name", "last_name", "date_of_birth", "phone", "archived_at")


def _parse_date(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def patient_search(query: str, *, include_archived: bool = False) -> QuerySet[Patient]:
    patients = Patient.objects.all() if include_archived else Patient.objects.current()
    query = (query or "").strip()
    if not query:
        return patients.order_by("last_name", "first_name", "id")
    dob = _parse_date(query)
    if dob:
        return patients.filter(date_of_birth=dob)
    condition = Q(mrn__iexact=query)
    digits = _DIGITS.sub("", query)
    if len(digits) >= 4 and len(digits) >= len(query.replace(" ", "")) - 1:
        # Compare the national part only, so "07700 900001" finds "+44 7700 900001".
        condition |= Q(phone_digits__endswith=digits[-9:]) if len(digits) >= 9 else Q(phone_digits__contains=digits)
    terms = query.split()
    name_condition = Q()
    for term in terms:
        name_condition &= Q(first_name__istartswith=term) | Q(last_name__istartswith=term)
    condition |= name_condition
    # Ordered by expressions, not by the list's index: PostgreSQL then reads the few matches from the prefix
    # indexes and sorts them, instead of walking every patient in name order looking for them.
    return patients.filter(condition).order_by(Lower("last_name"), Lower("first_name"), "id")


def possible_duplicates(*, first_name: str, last_name: str, date_of_birth: date, exclude_pk=None) -> list[Patient]:
    matches = Patient.objects.filter(
        first_name__iexact=first_name.strip(), last_name__iexact=last_name.strip(), date_of_birth=date_of_birth
    )
    if exclude_pk:
        matches = matches.exclude(pk=exclude_pk)
    return list(matches[:5])


def patient_history(patient: Patient, limit: int = 100) -> list[dict]:
    """Change history for a manager: who changed which fields, and when (django-simple-history)."""
    records = list(patient.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    entries = []
    for newer, older in zip(records, records[1:] + [None]):
        changes = []
        if older is not None:
            delta = newer.diff_against(older)
            changes = [
                {"field": Patient._meta.get_field(c.field).verbose_name, "old": c.old, "new": c.new}
                for c in delta.changes
                if c.field != "updated_at"
            ]
        entries.append({"record": newer, "changes": changes})
    return entries[:limit]


def patient_url_prefix() -> str:
    """A patient's page is this prefix + "<id>/": lists reverse it once per page, not once per row."""
    return reverse("patients:detail", args=[0]).removesuffix("0/")


def patient_for_page(patient_id: int) -> Patient:
    """The patient with who confirmed their screening (the page shows it), or 404."""
    return get_object_or_404(Patient.objects.select_related("screening_confirmed_by"), pk=patient_id)
