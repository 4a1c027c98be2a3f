"""The FHIR export pages."""

import json

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic.http import require_perm
from clinic.services import access_log_record
from plans.fhir.bundle import patient_bundle
from plans.fhir.selectors import patient_record

FHIR_JSON = "application/fhir+json"


@never_cache
@require_GET
def patient_fhir_bundle(request, patient_id):
    """One patient's record as a FHIR R4 Bundle (clinicians and managers; written to the access log)."""
    require_perm(request, "patients.view_clinical_history")
    record = patient_record(patient_id)  # 404 for an unknown patient, before the log below
    bundle = patient_bundle(record)
    access_log_record(user=request.user, patient_id=record.patient.pk, path=request.path)
    response = HttpResponse(json.dumps(bundle, ensure_ascii=False, indent=1), content_type=f"{FHIR_JSON}; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="patient-{record.patient.pk}-fhir.json"'
    return response
