from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clinic import fragments
from clinic.http import require_perm
from clinic.paging import CappedPaginator
from clinic.services import access_log_record
from patients import selectors, services
from patients.forms import (
    IMPORT_BUTTON,
    PatientFhirImportForm,
    PatientForm,
    PatientSearchForm,
    patient_form_from_import,
)
from patients.models import Patient

DUPLICATE_WARNING = "A patient with the same name and date of birth already exists: {names}. Saved anyway."


def _patient_for(request, patient_id, *, perm="patients.view_patient") -> Patient:
    require_perm(request, perm)
    return selectors.patient_for_page(patient_id)


@permission_required("patients.view_patient", raise_exception=True)
def patient_list(request):
    form = PatientSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    show_archived = request.GET.get("archived") == "1"
    template = "patients/includes/patient_rows.html" if request.htmx else "patients/patient_list.html"
    # Only the columns the list shows: a page of 25 wide patient rows costs more to load than to find.
    patients = selectors.patient_search(query, include_archived=show_archived).only(*selectors.LIST_FIELDS)
    # Page links keep the search and the archived filter.
    filters = (("q", query), ("archived", "1" if show_archived else ""))
    return render(request, template, {
        "page": CappedPaginator(patients, 25, cap=settings.PATIENT_LIST_MAX).get_page(request.GET.get("page")),
        "patient_url": selectors.patient_url_prefix(),
        "form": form, "query": query, "show_archived": show_archived,
        "page_query": urlencode({key: value for key, value in filters if value}),
    })


@permission_required("patients.add_patient", raise_exception=True)
def patient_new(request):
    clinical = request.user.has_perm("patients.change_clinical_history")
    if request.method == "POST" and IMPORT_BUTTON in request.POST:
        return _patient_new_from_fhir(request, clinical=clinical)
    form = PatientForm(request.POST or None, clinical=clinical)
    if request.method == "POST" and form.is_valid():
        patient = services.patient_create(form=form, by=request.user)
        _warn_duplicates(request, patient)
        messages.success(request, f"Added {patient.full_name}.")
        return redirect(patient)
    return render(request, "patients/patient_form.html", {
        "form": form, "title": "New patient", "import_form": PatientFhirImportForm(),
    })


def _patient_new_from_fhir(request, *, clinical):
    """An uploaded FHIR Patient shown as the new-patient form, filled in for checking. Nothing is saved here:
    the user saves the form as any new patient."""
    upload = PatientFhirImportForm(request.POST, request.FILES)
    if not upload.is_valid():
        return render(request, "patients/patient_form.html", {
            "form": PatientForm(clinical=clinical), "title": "New patient", "import_form": upload,
        })
    imported = upload.cleaned_data["fhir_file"]
    return render(request, "patients/patient_form.html", {
        "form": patient_form_from_import(imported, clinical=clinical), "title": "New patient",
        "import_form": PatientFhirImportForm(), "imported": imported,
        "import_file_name": request.FILES["fhir_file"].name,
    })


@permission_required("patients.change_patient", raise_exception=True)
def patient_edit(request, patient_id):
    patient = _patient_for(request, patient_id, perm="patients.change_patient")
    clinical = request.user.has_perm("patients.change_clinical_history")
    form = PatientForm(request.POST or None, instance=patient, clinical=clinical)
    if request.method == "POST" and form.is_valid():
        patient = services.patient_update(
            form=form, by=request.user, confirm_screening=form.cleaned_data.get("confirm_screening", False)
        )
        _warn_duplicates(request, patient)
        messages.success(request, "Saved.")
        return redirect(patient)
    access_log_record(user=request.user, patients=[patient], path=request.path)
    return render(request, "patients/patient_form.html", {"form": form, "title": f"Edit {patient.full_name}", "patient": patient})


def _warn_duplicates(request, patient):
    twins = selectors.possible_duplicates(
        first_name=patient.first_name, last_name=patient.last_name, date_of_birth=patient.date_of_birth,
        exclude_pk=patient.pk,
    )
    if twins:
        names = ", ".join(f"{t.full_name} ({t.mrn})" for t in twins)
        messages.warning(request, DUPLICATE_WARNING.format(names=names))


def patient_detail(request, patient_id):
    require_perm(request, "patients.view_patient")

    def read():
        patient = selectors.patient_for_page(patient_id)  # 404 for an unknown patient, raised before the log below
        return patient.full_name, {"patient": patient, **selectors_for_detail(patient, request.user)}

    fragment = fragments.for_patient(request, "patient page", patient_id, "patients/includes/patient_body.html", read)
    response = render(request, "patients/patient_detail.html", {"fragment": fragment})
    access_log_record(user=request.user, patients=[patient_id], path=request.path)
    return response


def selectors_for_detail(patient, user) -> dict:
    from plans.selectors import patient_page_context

    return patient_page_context(patient, user)


@require_POST
def patient_confirm_screening(request, patient_id):
    patient = _patient_for(request, patient_id, perm="patients.change_clinical_history")
    services.patient_confirm_screening(patient=patient, by=request.user)
    messages.success(request, "Screening answers confirmed as of today.")
    return redirect(patient)


@require_POST
def patient_archive(request, patient_id):
    patient = _patient_for(request, patient_id, perm="patients.archive_patient")
    services.patient_archive(patient=patient, by=request.user)
    messages.success(request, f"{patient.full_name} archived. Their records are kept.")
    return redirect(patient)


@require_POST
def patient_restore(request, patient_id):
    patient = _patient_for(request, patient_id, perm="patients.archive_patient")
    services.patient_restore(patient=patient, by=request.user)
    messages.success(request, f"{patient.full_name} restored.")
    return redirect(patient)


def patient_history(request, patient_id):
    patient = _patient_for(request, patient_id, perm="patients.view_patient_history")
    access_log_record(user=request.user, patients=[patient], path=request.path)
    return render(request, "patients/patient_history.html", {"patient": patient, "entries": selectors.patient_history(patient)})
