"""Every write to a patient. History (who, when, what) is kept by django-simple-history."""

from django.db import transaction
from django.utils import timezone

from patients.models import Patient


@transaction.atomic
def patient_create(*, form, by) -> Patient:
    patient = form.save(commit=False)
    if any(name in form.cleaned_data for name in ("is_pregnant", "allergies")):
        # A clinician filled in the screening answers: that counts as confirming them today.
        _stamp_screening(patient, by=by)
    patient.full_clean()
    patient.save()
    return patient


@transaction.atomic
def patient_update(*, form, by, confirm_screening: bool = False) -> Patient:
    """Save an edit. The screening answers count as confirmed today only when the clinician says so
    (`confirm_screening`, the form's explicit tick): editing a phone number must not make stale answers
    (pregnancy, isotretinoin, a recent tan) look freshly checked."""
    patient = form.save(commit=False)
    if confirm_screening:
        _stamp_screening(patient, by=by)
    patient.full_clean()
    patient.save()
    return patient


@transaction.atomic
def patient_confirm_screening(*, patient: Patient, by) -> Patient:
    """Re-confirm the screening answers as still true today (dated, by whom)."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    _stamp_screening(patient, by=by)
    patient.save(update_fields=["screening_confirmed_at", "screening_confirmed_by", "updated_at"])
    return patient


def _stamp_screening(patient: Patient, *, by) -> None:
    patient.screening_confirmed_at = timezone.now()
    patient.screening_confirmed_by = by


@transaction.atomic
def patient_archive(*, patient: Patient, by) -> Patient:
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    patient.archived_at = timezone.now()
    patient.save(update_fields=["archived_at", "updated_at"])
    return patient


@transaction.atomic
def patient_restore(*, patient: Patient, by) -> Patient:
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    patient.archived_at = None
    patient.save(update_fields=["archived_at", "updated_at"])
    return patient
