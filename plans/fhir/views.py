"""The FHIR export pages."""

import json

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic.http import require_perm
from clinic.services import access_log_record
from plans.fhir import bulk
from plans.fhir.bundle import patient_bundle
from plans.fhir.services import export_download_record
from plans.models import ExportDownload
from plans.fhir.selectors import patient_record

FHIR_JSON = "application/fhir+json"


@never_cache
@require_GET
def patient_fhir_bundle(request, patient_id):
    """One patient's record as a FHIR R4 Bundle (clinicians and managers; written to the access log)."""
    require_perm(request, "patients.view_clinical_history")
    record = patient_record(patient_id)  # 404 for an unknown patient, before the log below
    bundle = patient_bundle(record)
    access_log_record(user=request.user, patients=[record.patient], path=request.path)
    response = HttpResponse(json.dumps(bundle, ensure_ascii=False, indent=1), content_type=f"{FHIR_JSON}; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="patient-{record.patient.pk}-fhir.json"'
    return response


@never_cache
@require_GET
def fhir_exports(request):
    """Managers: the bulk exports written by ``manage.py export_fhir`` under FHIR_EXPORT_DIR."""
    require_perm(request, "plans.export_fhir")
    return render(request, "plans/fhir/exports.html", {
        "exports": bulk.exports_on_disk(), "export_dir": bulk.export_root(),
        "downloads": ExportDownload.objects.select_related("user")[:20],
    })


@never_cache
@require_GET
def fhir_export_file(request, export, filename):
    """Managers: one file of one export, streamed from disk; every download is recorded (who, what, when)."""
    require_perm(request, "plans.export_fhir")
    path = bulk.export_file(export, filename)
    if path is None:
        raise Http404("No such export file.")
    export_download_record(user=request.user, export=export, file=filename)
    for patient_ids in bulk.exported_patient_ids(export, filename):  # one access-log row per patient in the file
        access_log_record(user=request.user, patients=patient_ids, path=request.path)
    content_type = "application/fhir+ndjson" if filename.endswith(".ndjson") else "application/json"
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"{export}-{filename}", content_type=content_type)


urlpatterns = [
    path("fhir/exports/", fhir_exports, name="fhir_exports"),
    path("fhir/exports/<str:export>/<str:filename>", fhir_export_file, name="fhir_export_file"),
]
