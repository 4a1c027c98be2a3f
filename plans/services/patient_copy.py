"""The patient's own copy of their record (issue 15 §3): a subject access request (GDPR Art. 15, HIPAA's right
of access) answered with one ZIP a manager hands to the patient.

The ZIP holds:
- record-<MRN>.pdf: everything held, readable (WeasyPrint, from templates/plans/patient_copy/record_pdf.html);
- record-<MRN>.fhir.json: the same record as an HL7 FHIR R4 Bundle (plans.fhir.bundle.patient_bundle);
- aftercare/: each aftercare sheet's PDF as issued (the Bundle's own attachments, byte for byte);
- photos/ and consents/: the clinical photos at full size and any scanned consent forms, as stored;
- access-log.csv: every opening of the record (the PDF summarises it per day and person);
- README.txt: what each file is.

It is built into a temporary file first; only then, in one transaction, are the PatientCopy (who, when, the
ZIP's SHA-256) and the access-log row written, so a failure leaves no record of a copy nobody received.
"""

import base64
import csv
import dataclasses
import hashlib
import io
import json
import re
import tempfile
import zipfile
from pathlib import PurePosixPath

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.http import csv_cell
from clinic.services import access_log_record
from clinic.uploads import UNREADABLE_ERRORS
from plans.fhir.bundle import patient_bundle
from plans.fhir.ids import resource_id
from plans.models import PatientCopy
from plans.selectors.patient_copy import PatientCopyData, patient_copy_data

PDF_TEMPLATE = "plans/patient_copy/record_pdf.html"
PDF_PHOTO_PIXELS = 1200  # longest side of a photo in the PDF; the ZIP has it at full size
ZIP_CONTENT_TYPE = "application/zip"
_STORED_AS_IS = {".jpg", ".jpeg", ".png"}  # already compressed: deflating them again gains nothing


@dataclasses.dataclass
class ProducedCopy:
    copy: PatientCopy
    file: object  # a temporary file holding the ZIP, at its start; closed (and gone) with the response
    filename: str


def _file_part(text: str) -> str:
    """The MRN as it is written, made safe for a file name."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "patient"


def copy_filename(patient, when) -> str:
    return f"patient-copy-{_file_part(patient.mrn)}-{timezone.localdate(when).isoformat()}.zip"


def patient_copy_produce(*, patient_id: int, by, path: str) -> ProducedCopy:
    """Build the ZIP of everything held about the patient, then record who produced it (and log the access)."""
    data = patient_copy_data(patient_id)  # 404 for an unknown patient, before anything is written
    patient = data.record.patient
    produced_at = timezone.now()
    out = tempfile.TemporaryFile()
    try:
        files = write_copy_zip(out, data=data, by=by, produced_at=produced_at)
        size = out.tell()
        out.seek(0)
        sha256 = hashlib.file_digest(out, "sha256").hexdigest()
        filename = copy_filename(patient, produced_at)
        copy = patient_copy_record(
            patient=patient, by=by, filename=filename, sha256=sha256, size=size, files=files, path=path
        )
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return ProducedCopy(copy=copy, file=out, filename=filename)


@transaction.atomic
def patient_copy_record(*, patient, by, filename: str, sha256: str, size: int, files: list[str], path: str) -> PatientCopy:
    """The record that a copy left the clinic, and the access-log row of the manager who produced it."""
    copy = PatientCopy(patient=patient, produced_by=by, filename=filename, sha256=sha256, size=size, files=files)
    copy.full_clean()
    copy.save()
    access_log_record(user=by, patients=[patient], path=path)
    return copy


# ---------------------------------------------------------------------------------------------------------
# The ZIP
# ---------------------------------------------------------------------------------------------------------


class _Zip:
    def __init__(self, out, produced_at):
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)
        self.date_time = timezone.localtime(produced_at).timetuple()[:6]
        self.names: list[str] = []

    def unique(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.names:
            n += 1
            path = PurePosixPath(name)
            candidate = str(path.with_name(f"{path.stem}-{n}{path.suffix}"))
        return candidate

    def add(self, name: str, content: bytes | str) -> str:
        name = self.unique(name)
        info = zipfile.ZipInfo(name, date_time=self.date_time)
        info.external_attr = 0o644 << 16
        stored = PurePosixPath(name).suffix.lower() in _STORED_AS_IS
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        self.zip.writestr(info, content)
        self.names.append(name)
        return name

    def close(self):
        self.zip.close()


def _read(field_file) -> bytes | None:
    """A stored file's bytes, or None when the file is missing from storage (the PDF then says so)."""
    if not field_file:
        return None
    try:
        with field_file.open("rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError):
        return None


def _extension(name: str, content_type: str = "") -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix:
        return suffix
    return {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}.get(content_type, "")


def _pdf_image(content: bytes) -> str | None:
    """A photo for the PDF: at most PDF_PHOTO_PIXELS on its longest side, as a JPEG data URL (the PDF's fetcher
    takes nothing else). Uploads were checked when they came in (clinic.uploads); an unreadable one is left out."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.draft("RGB", (PDF_PHOTO_PIXELS, PDF_PHOTO_PIXELS))
            image = ImageOps.exif_transpose(image)
            image.thumbnail((PDF_PHOTO_PIXELS, PDF_PHOTO_PIXELS))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=82)
    except UNREADABLE_ERRORS:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _access_log_csv(data: PatientCopyData) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["when", "staff member", "what was opened"])
    for entry in data.access_log:
        writer.writerow([
            timezone.localtime(entry.at).isoformat(timespec="seconds"),
            csv_cell(entry.user.get_full_name() or entry.user.username),
            csv_cell(entry.path),
        ])
    return buffer.getvalue()


def _readme(patient, names: dict[str, str], produced_at) -> str:
    return "\n".join([
        f"A copy of everything {settings.CLINIC_NAME} holds about {patient.full_name} (record {patient.mrn}),",
        f"produced on {timezone.localtime(produced_at):%Y-%m-%d at %H:%M}.",
        "",
        f"{names['pdf']}  the whole record, to read and print",
        f"{names['bundle']}  the same record in HL7 FHIR R4 (JSON), for another clinic or doctor",
        "aftercare/  each aftercare sheet as it was given",
        "photos/  clinical photos at full size",
        "consents/  scanned consent forms, where one was kept",
        f"{names['access_log']}  every time a member of staff opened the record",
        "",
        f"Questions: {settings.CLINIC_NAME}, {settings.CLINIC_PHONE}",
        "",
    ])


def _aftercare_pdfs(bundle: dict) -> dict[str, bytes]:
    """The aftercare PDFs the Bundle carries (DocumentReference attachments), by resource id."""
    return {
        entry["resource"]["id"]: base64.b64decode(entry["resource"]["content"][0]["attachment"]["data"])
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "DocumentReference"
    }


def write_copy_zip(out, *, data: PatientCopyData, by, produced_at) -> list[str]:
    """Write the ZIP into the binary file `out`; returns the names of the files in it."""
    patient = data.record.patient
    mrn = _file_part(patient.mrn)
    names = {"pdf": f"record-{mrn}.pdf", "bundle": f"record-{mrn}.fhir.json", "access_log": "access-log.csv"}
    bundle = patient_bundle(data.record)
    archive = _Zip(out, produced_at)
    try:
        archive.add("README.txt", _readme(patient, names, produced_at))
        archive.add(names["bundle"], json.dumps(bundle, ensure_ascii=False, indent=1))
        sheet_pdfs = _aftercare_pdfs(bundle)
        for sheet in data.aftercare_sheets:
            pdf = sheet_pdfs.get(resource_id("aftercare-sheet", sheet.pk))
            if pdf is not None:
                day = sheet.content["session"]["iso_date"]
                sheet.zip_name = archive.add(f"aftercare/aftercare-{day}-session-{sheet.content['session']['number']}.pdf", pdf)
        for photo in data.photos:
            content = _read(photo.image)
            photo.zip_name = photo.pdf_src = None
            if content is not None:
                photo.zip_name = archive.add(
                    f"photos/{photo.taken_on.isoformat()}-{photo.view}{_extension(photo.image.name, photo.content_type)}",
                    content,
                )
                photo.pdf_src = _pdf_image(content)
        for row in data.consents:
            consent = row["consent"]
            content = _read(consent.scanned_form)
            consent.zip_name = None
            if content is not None:
                day = timezone.localdate(consent.signed_at).isoformat()
                consent.zip_name = archive.add(
                    f"consents/{day}-{consent.text.kind}-v{consent.text.version}{_extension(consent.scanned_form.name)}",
                    content,
                )
        archive.add(names["access_log"], _access_log_csv(data))
        archive.add(names["pdf"], patient_copy_pdf(data, by=by, produced_at=produced_at, files=names))
    finally:
        archive.close()
    return archive.names


def patient_copy_pdf(data: PatientCopyData, *, by, produced_at, files: dict[str, str]) -> bytes:
    """The readable record. Its only outside resources are the photos and drawn signatures, inlined as data
    URLs: the fetcher refuses every other scheme (no file, no network)."""
    from weasyprint import HTML

    from clinic.pdf import url_fetcher

    html = render_to_string(PDF_TEMPLATE, {
        "data": data,
        "record": data.record,
        "patient": data.record.patient,
        "produced_by": by,
        "produced_at": produced_at,
        "files": files,
        "clinic": {"name": settings.CLINIC_NAME, "phone": settings.CLINIC_PHONE, "address": settings.CLINIC_ADDRESS},
    })
    return HTML(string=html, url_fetcher=url_fetcher("data")).write_pdf()
