"""The patient's own copy of their record: managers produce it on the patient's request (README "Subject access
requests"). A POST, because producing a copy is recorded (plans.models.PatientCopy) and logged."""

from django.http import FileResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clinic.http import require_perm
from plans.services.patient_copy import ZIP_CONTENT_TYPE, patient_copy_produce


@never_cache
@require_POST
def patient_copy(request, patient_id):
    require_perm(request, "plans.export_patient_copy")
    produced = patient_copy_produce(patient_id=patient_id, by=request.user, path=request.path)
    return FileResponse(produced.file, as_attachment=True, filename=produced.filename, content_type=ZIP_CONTENT_TYPE)
