"""Bulk export: NDJSON per resource type with a manifest, --since, and the managers' logged download."""

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class

from clinic.models import AccessLog
from plans.models import ExportDownload
from tests.factories import PatientFactory
from tests.fhir.helpers import NOW, two_course_patient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW)


def read_ndjson(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_writes_valid_ndjson_with_references_resolving_across_files(tmp_path):
    record = two_course_patient()
    PatientFactory(mrn="MRN-OTHER")
    call_command("export_fhir", "--out", str(tmp_path / "x"), "--chunk", "1")
    out = tmp_path / "x"
    manifest = json.loads((out / "manifest.json").read_text())
    types = {o["type"]: o["count"] for o in manifest["output"]}
    assert types["Patient"] == 2 and types["Procedure"] == 4 and types["CarePlan"] == 2
    assert types["Practitioner"] == 2 and types["Device"] == 1  # shared rows written once
    ids = set()
    for output in manifest["output"]:
        rows = read_ndjson(out / output["url"])
        assert len(rows) == output["count"]
        for row in rows:
            get_fhir_model_class(row["resourceType"]).model_validate(row)
            ids.add(f"{row['resourceType']}/{row['id']}")
    from tests.fhir.helpers import references

    refs = {ref for output in manifest["output"] for row in read_ndjson(out / output["url"]) for ref in references(row)}
    assert refs and refs <= ids
    assert f"Patient/patient-{record['patient'].pk}" in refs


def test_since_keeps_patients_changed_on_or_after_the_day(tmp_path, time_machine):
    time_machine.move_to(NOW - dt.timedelta(days=10))
    old = PatientFactory(mrn="MRN-OLD")
    time_machine.move_to(NOW - dt.timedelta(days=2))
    changed_on_the_day = PatientFactory(mrn="MRN-DAY")
    time_machine.move_to(NOW)
    since = (NOW - dt.timedelta(days=2)).date().isoformat()
    call_command("export_fhir", "--out", str(tmp_path / "s"), "--since", since)
    mrns = {row["identifier"][0]["value"] for row in read_ndjson(tmp_path / "s" / "Patient.ndjson")}
    assert mrns == {"MRN-DAY"}
    # A clinical record changed later brings the patient back in.
    from tests.factories import AssessmentFactory

    AssessmentFactory(patient=old)
    call_command("export_fhir", "--out", str(tmp_path / "t"), "--since", since)
    mrns = {row["identifier"][0]["value"] for row in read_ndjson(tmp_path / "t" / "Patient.ndjson")}
    assert mrns == {"MRN-DAY", "MRN-OLD"}
    assert changed_on_the_day.pk


def test_export_refuses_a_directory_holding_an_export_and_a_bad_date(tmp_path):
    call_command("export_fhir", "--out", str(tmp_path / "e"))
    with pytest.raises(CommandError, match="already holds an export"):
        call_command("export_fhir", "--out", str(tmp_path / "e"))
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_fhir", "--out", str(tmp_path / "f"), "--since", "yesterday")


def test_manager_downloads_a_file_and_the_download_is_recorded(settings, tmp_path, role_clients, manager):
    settings.FHIR_EXPORT_DIR = tmp_path
    PatientFactory(mrn="MRN-DL")
    call_command("export_fhir", "--out", str(tmp_path / "2026-03-10"))
    page = reverse("plans:fhir_exports")
    url = reverse("plans:fhir_export_file", args=["2026-03-10", "Patient.ndjson"])
    assert role_clients["clinician"].get(url).status_code == 403
    assert role_clients["front_desk"].get(page).status_code == 403
    assert url in role_clients["manager"].get(page).content.decode()
    response = role_clients["manager"].get(url)
    assert response.status_code == 200
    assert b"MRN-DL" in b"".join(response.streaming_content)
    assert [(d.user, d.export, d.file) for d in ExportDownload.objects.all()] == [(manager, "2026-03-10", "Patient.ndjson")]
    # The patients in the file are logged as opened by the manager; staff and lot files show no patient.
    logged = list(AccessLog.objects.values_list("user", "patient__mrn", "path"))
    assert logged == [(manager.pk, "MRN-DL", url)]
    role_clients["manager"].get(reverse("plans:fhir_export_file", args=["2026-03-10", "manifest.json"]))
    assert AccessLog.objects.count() == 1 and ExportDownload.objects.count() == 2


@pytest.mark.parametrize("export, filename", [
    ("2026-03-10", "..%2Fsecret.ndjson"), ("..", "manifest.json"), ("2026-03-10", "settings.py"),
    ("missing", "Patient.ndjson"),
])
def test_only_export_files_can_be_downloaded(settings, tmp_path, manager_client, export, filename):
    settings.FHIR_EXPORT_DIR = tmp_path / "exports"
    call_command("export_fhir", "--out", str(tmp_path / "exports" / "2026-03-10"))
    (tmp_path / "exports" / "secret.ndjson").write_text("{}")
    response = manager_client.get(f"/fhir/exports/{export}/{filename}")
    assert response.status_code == 404
    assert not ExportDownload.objects.exists()
