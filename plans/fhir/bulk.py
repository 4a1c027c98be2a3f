"""Bulk export in the FHIR Bulk Data style: one NDJSON file per resource type and a manifest.json.

Streaming: patients are read in chunks (plans.fhir.selectors.patient_records, a fixed number of queries per
chunk) and each resource is written as soon as it is mapped, so memory stays flat whatever the number of
patients; only the ids of staff and lots already written are kept, so each is written once.
"""

import datetime as dt
import json
import re
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from patients.models import Patient
from plans.fhir.bundle import record_resources
from plans.fhir.ids import relative_references
from plans.fhir.mapping import instant
from plans.fhir.selectors import patient_records
from plans.models import (
    AdverseEvent,
    AdverseEventNote,
    AftercareSheet,
    Assessment,
    Consent,
    Plan,
    PlanAdjunct,
    SessionAmendment,
    TreatmentSession,
)

MANIFEST = "manifest.json"
PATIENT_IDS = "patients.txt"  # the exported patients' ids, one a line: a download is logged against each
NO_PATIENT_FILES = {MANIFEST, "Practitioner.ndjson", "Device.ndjson"}
SHARED_TYPES = {"Practitioner", "Device"}  # referenced by many patients: written once per export
EXPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
FILE_NAME = re.compile(r"^[A-Za-z]+\.ndjson$|^manifest\.json$")

ERR_NOT_EMPTY = "{out} already holds an export; choose an empty or new directory."


def _changed_since(since: dt.datetime) -> Q:
    """A patient whose record changed at or after ``since``: their row, or any clinical row about them (history
    tables record every change with its date; rows without history have their creation time)."""
    pk = OuterRef("pk")
    return (
        Q(updated_at__gte=since) | Q(created_at__gte=since)
        | Exists(Plan.history.filter(patient_id=pk, history_date__gte=since))
        | Exists(PlanAdjunct.history.filter(plan__patient_id=pk, history_date__gte=since))
        | Exists(TreatmentSession.history.filter(plan__patient_id=pk, history_date__gte=since))
        | Exists(SessionAmendment.objects.filter(session__plan__patient_id=pk, at__gte=since))
        | Exists(Consent.history.filter(plan__patient_id=pk, history_date__gte=since))
        | Exists(Assessment.history.filter(patient_id=pk, history_date__gte=since))
        | Exists(AdverseEvent.history.filter(patient_id=pk, history_date__gte=since))
        | Exists(AdverseEventNote.objects.filter(event__patient_id=pk, at__gte=since))
        | Exists(AftercareSheet.objects.filter(session__plan__patient_id=pk, created_at__gte=since))
    )


def patients_to_export(since: dt.datetime | None):
    patients = Patient.objects.all()
    if since is not None:
        patients = patients.filter(_changed_since(since))
    return patients.order_by("pk").values_list("pk", flat=True)


def _chunks(ids, size: int):
    chunk = []
    for pk in ids.iterator(chunk_size=size):
        chunk.append(pk)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def export_ndjson(*, out: Path, since: dt.datetime | None = None, chunk_size: int = 200, request: str = "") -> dict:
    """Write the export into ``out`` (created; must not hold an export yet) and return its manifest."""
    out = Path(out)
    if (out / MANIFEST).exists() or any(out.glob("*.ndjson")):
        raise FileExistsError(ERR_NOT_EMPTY.format(out=out))
    out.mkdir(parents=True, exist_ok=True)
    started = timezone.now()
    files, counts, written_shared = {}, {}, set()
    files["ids"] = open(out / PATIENT_IDS, "w", encoding="ascii")  # noqa: SIM115
    try:
        with relative_references():
            for chunk in _chunks(patients_to_export(since), chunk_size):
                files["ids"].write("".join(f"{pk}\n" for pk in chunk))
                for record in patient_records(chunk):
                    for resource in record_resources(record):
                        kind = resource["resourceType"]
                        if kind in SHARED_TYPES:
                            if (kind, resource["id"]) in written_shared:
                                continue
                            written_shared.add((kind, resource["id"]))
                        if kind not in files:
                            files[kind] = open(out / f"{kind}.ndjson", "w", encoding="utf-8")  # noqa: SIM115
                            counts[kind] = 0
                        files[kind].write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n")
                        counts[kind] += 1
    finally:
        for handle in files.values():
            handle.close()
    manifest = {
        "transactionTime": instant(started),
        "request": request or f"{settings.CLINIC_FHIR_BASE.rstrip('/')}/$export"
        + (f"?_since={instant(since)}" if since else ""),
        "requiresAccessToken": True,
        "output": [{"type": kind, "url": f"{kind}.ndjson", "count": counts[kind]} for kind in sorted(counts)],
        "patients": sum(1 for _ in (out / PATIENT_IDS).open(encoding="ascii")),
        "error": [],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


# --- exports on disk, for the managers' download page ------------------------------------------------------


def export_root() -> Path:
    return Path(settings.FHIR_EXPORT_DIR)


def exports_on_disk() -> list[dict]:
    """Exports under FHIR_EXPORT_DIR (each a directory with a manifest), newest first."""
    root = export_root()
    found = []
    if root.is_dir():
        for folder in root.iterdir():
            manifest = folder / MANIFEST
            if EXPORT_NAME.match(folder.name) and manifest.is_file():
                try:
                    data = json.loads(manifest.read_text(encoding="utf-8"))
                except ValueError:
                    continue
                found.append({"name": folder.name, "manifest": data})
    return sorted(found, key=lambda e: e["manifest"].get("transactionTime", ""), reverse=True)


def export_file(name: str, filename: str) -> Path | None:
    """The path of one file of one export, or None: names are checked, never joined blindly."""
    if not EXPORT_NAME.match(name) or not FILE_NAME.match(filename):
        return None
    path = export_root() / name / filename
    if not path.is_file() or not (export_root() / name / MANIFEST).is_file():
        return None
    return path


def exported_patient_ids(name: str, filename: str, *, batch: int = 5000):
    """Batches of the ids of the patients whose data the file holds (none for staff, lots and the manifest)."""
    if filename in NO_PATIENT_FILES:
        return
    chunk = []
    with (export_root() / name / PATIENT_IDS).open(encoding="ascii") as lines:
        for line in lines:
            chunk.append(int(line))
            if len(chunk) == batch:
                yield chunk
                chunk = []
    if chunk:
        yield chunk
