"""One patient's record as a FHIR R4 Bundle: valid (fhir.resources), complete, references resolvable, values a
clinician would look for, a fixed number of queries."""

import base64
import json
import subprocess

import pytest
from django.urls import reverse

from clinic.models import AccessLog
from plans.fhir.bundle import patient_bundle
from plans.fhir.ids import full_url
from plans.fhir.selectors import patient_record
from plans.models import AdverseEvent, Assessment, Consent, Plan, TreatmentSession
from tests.fhir.helpers import NOW, TODAY, by_full_url, by_id, references, resources, two_course_patient, validate

pytestmark = pytest.mark.django_db

BASE = "https://clinic.example.org/fhir"


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW)  # ticks on, so records made one after the other keep their order


@pytest.fixture
def record():
    return two_course_patient()


@pytest.fixture
def bundle(record):
    return patient_bundle(patient_record(record["patient"].pk))


def test_bundle_validates_as_fhir_r4_and_is_a_collection(bundle):
    parsed = validate(bundle)
    assert parsed.type == "collection"
    assert len(parsed.entry) == len(bundle["entry"])


def test_every_reference_resolves_inside_the_bundle_and_ids_are_unique(bundle):
    urls = by_full_url(bundle)
    assert len(urls) == len(bundle["entry"])
    assert len({(r["resourceType"], r["id"]) for r in resources(bundle)}) == len(bundle["entry"])
    found = list(references(bundle))
    assert len(found) > 40
    assert [ref for ref in found if ref not in urls] == []


def test_ids_and_full_urls_are_stable_between_exports(record, bundle):
    again = patient_bundle(patient_record(record["patient"].pk))
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in bundle["entry"]]
    patient = record["patient"]
    assert by_id(bundle)[f"patient-{patient.pk}"]
    assert full_url("Patient", f"patient-{patient.pk}") in by_full_url(bundle)


def test_counts_match_the_database(record, bundle):
    patient = record["patient"]
    count = lambda kind: len(resources(bundle, kind))  # noqa: E731
    assert count("Patient") == 1
    assert count("CarePlan") == Plan.objects.filter(patient=patient).count() == 2
    assert count("Procedure") == TreatmentSession.objects.filter(plan__patient=patient, status="completed").count() == 4
    assert count("Consent") == Consent.objects.filter(plan__patient=patient).count() == 3
    assert count("AdverseEvent") == AdverseEvent.objects.filter(patient=patient).count() == 1
    assert count("DocumentReference") == 1
    assessments = Assessment.objects.filter(patient=patient)
    scores = [r for r in resources(bundle, "Observation") if r["id"].split("-")[1] in ("masi", "mmasi", "melasqol")]
    assert len(scores) == 2 * assessments.count() + assessments.exclude(melasqol_total=None).count() == 5
    assert count("Device") == 1  # the one lot, used three times and suspected once
    assert {r["id"] for r in resources(bundle, "Practitioner")} == {
        f"practitioner-{record['hart'].pk}", f"practitioner-{record['osei'].pk}"
    }


def test_patient_demographics_with_mrn_system_and_telecom_where_consented(record, bundle):
    patient = by_id(bundle)[f"patient-{record['patient'].pk}"]
    assert patient["identifier"][0]["system"] == f"{BASE}/sid/mrn"
    assert patient["identifier"][0]["value"] == "MRN-4711"
    assert patient["name"][0] == {"use": "official", "family": "Rahman", "given": ["Nadia"]}
    assert patient["birthDate"] == "1985-03-14"
    assert patient["gender"] == "female"
    # No email consent: the phone is given, the email is not.
    assert patient["telecom"] == [{"system": "phone", "value": "+44 7700 900123"}]


def test_fhir_base_setting_names_the_systems(record, settings):
    settings.CLINIC_FHIR_BASE = "https://derm.example.com/fhir/"
    bundle = patient_bundle(patient_record(record["patient"].pk))
    patient = resources(bundle, "Patient")[0]
    assert patient["identifier"][0]["system"] == "https://derm.example.com/fhir/sid/mrn"
    masi = by_id(bundle)[f"observation-masi-{record['baseline'].pk}"]
    assert masi["code"]["coding"][0]["system"] == "https://derm.example.com/fhir/CodeSystem/melasma-scores"


def test_condition_is_melasma_with_onset_and_fitzpatrick_observation(record, bundle):
    pk = record["patient"].pk
    condition = by_id(bundle)[f"condition-melasma-{pk}"]
    assert condition["code"]["coding"][0] == {"system": "http://snomed.info/sct", "code": "36209000", "display": "Melasma"}
    assert condition["onsetDateTime"] == "2019"
    assert condition["bodySite"][0]["coding"][0]["code"] == "89545001"
    assert "onset with pregnancy" in condition["note"][1]["text"]
    fitzpatrick = by_id(bundle)[f"observation-fitzpatrick-{pk}"]
    assert fitzpatrick["code"]["coding"][0]["code"] == "fitzpatrick-skin-type"
    assert fitzpatrick["valueCodeableConcept"]["coding"][0]["code"] == "4"
    assert fitzpatrick["valueCodeableConcept"]["text"].startswith("Type IV")
    assert by_full_url(bundle)[condition["evidence"][0]["detail"][0]["reference"]] is fitzpatrick


def test_careplans_carry_state_period_windows_adjuncts_and_sun_protection(record, bundle):
    first = by_id(bundle)[f"careplan-{record['first'].pk}"]
    second = by_id(bundle)[f"careplan-{record['second'].pk}"]
    assert (first["status"], second["status"]) == ("completed", "active")
    assert first["intent"] == "plan"
    assert first["period"]["start"] == record["first"].start_date.isoformat()
    sessions = [a for a in first["activity"] if a["detail"].get("kind") == "ServiceRequest"]
    assert [a["detail"]["status"] for a in sessions] == ["completed"] * 3
    # Session 1's target is the start date; its window the plan's 3 days before / 7 after.
    timing = sessions[0]["detail"]["scheduledTiming"]
    start = record["first"].start_date
    assert timing["event"] == [start.isoformat()]
    assert timing["repeat"]["boundsPeriod"] == {
        "start": (start - TODAY.resolution * 3).isoformat(), "end": (start + TODAY.resolution * 7).isoformat()
    }
    urls = by_full_url(bundle)
    performed = [urls[a["outcomeReference"][0]["reference"]]["id"] for a in sessions]
    assert performed == [f"procedure-{s.pk}" for s in record["sessions"]]
    descriptions = [a["detail"]["description"] for a in first["activity"]]
    assert "Hydroquinone: 4%, nightly, paused 5 days before each session" in descriptions
    assert any(d.startswith("Sun protection: SPF 50") for d in descriptions)
    assert sum(d.startswith("Follow-up") for d in descriptions) == 2
    statuses = [a["detail"]["status"] for a in second["activity"] if a["detail"].get("kind") == "ServiceRequest"]
    assert statuses == ["completed", "cancelled", "scheduled", "not-started"]
    skipped = [a for a in second["activity"] if a["detail"]["status"] == "cancelled"][0]
    assert "Patient travelling" in skipped["detail"]["statusReason"]["text"]


def test_procedure_shows_the_amended_settings_the_amendment_performer_and_lot_device(record, bundle):
    amended = by_id(bundle)[f"procedure-{record['amended'].pk}"]
    assert amended["status"] == "completed"
    assert amended["code"]["coding"][0] == {
        "system": f"{BASE}/CodeSystem/modality", "code": "microneedling", "display": "Microneedling"
    }
    assert amended["performedDateTime"] == record["amended"].performed_at.isoformat(timespec="seconds")
    notes = [n["text"] for n in amended["note"]]
    device_note = [n for n in notes if n.startswith("Device: Dermapen 4. Settings:")][0]
    assert "Needle depth (mm): 0.8" in device_note and "Passes: 3" in device_note  # key order: JSONB's own
    amendment = [n for n in amended["note"] if n["text"].startswith("Amended")][0]
    assert "Depth typed wrongly" in amendment["text"] and "0.5" in amendment["text"] and "0.8" in amendment["text"]
    urls = by_full_url(bundle)
    assert urls[amendment["authorReference"]["reference"]]["name"][0]["family"] == "Osei"
    assert urls[amended["performer"][0]["actor"]["reference"]]["name"][0]["family"] == "Hart"
    device = urls[amended["focalDevice"][0]["manipulated"]["reference"]]
    assert device == urls[amended["usedReference"][0]["reference"]]
    assert device["lotNumber"] == "EXO-2291"
    assert device["expirationDate"] == record["lot"].expiry_date.isoformat()
    assert device["manufacturer"] == "Dermagen Labs"
    assert device["deviceName"][0]["name"] == "ExoRenew Serum"
    assert any("2.00 mL" in n for n in notes)
    assert amended["bodySite"][0]["coding"][0]["code"] == "89545001"


def test_score_observations_carry_values_and_regional_components(record, bundle):
    baseline = record["baseline"]
    masi = by_id(bundle)[f"observation-masi-{baseline.pk}"]
    assert masi["valueQuantity"]["value"] == 15.8
    assert masi["effectiveDateTime"] == baseline.taken_on.isoformat()
    components = {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in masi["component"]}
    assert len(components) == 12
    assert (components["forehead-area"], components["right-malar-darkness"], components["chin-homogeneity"]) == (3, 3, 1)
    mmasi = by_id(bundle)[f"observation-mmasi-{baseline.pk}"]
    assert mmasi["valueQuantity"]["value"] == 9.1
    assert len(mmasi["component"]) == 8  # area and darkness only (S3)
    melasqol = by_id(bundle)[f"observation-melasqol-{baseline.pk}"]
    assert melasqol["valueQuantity"]["value"] == 37
    assert [c["valueInteger"] for c in melasqol["component"]] == [3, 4, 5, 2, 6, 3, 4, 5, 2, 3]
    assert melasqol["component"][0]["code"]["coding"][0]["code"] == "melasqol-item-1"
    follow_up = by_id(bundle)[f"observation-masi-{record['follow_up'].pk}"]
    assert follow_up["valueQuantity"]["value"] == 9.4
    assert f"observation-melasqol-{record['follow_up'].pk}" not in by_id(bundle)
    assert by_full_url(bundle)[follow_up["performer"][0]["reference"]]["name"][0]["family"] == "Osei"


def test_adverse_event_with_severity_from_grade_outcome_and_suspect_lot(record, bundle):
    event = by_id(bundle)[f"adverse-event-{record['event'].pk}"]
    assert event["actuality"] == "actual"
    assert event["event"]["coding"][0]["code"] == "pih"
    assert event["date"] == (TODAY - TODAY.resolution * 35).isoformat()
    assert event["seriousness"]["coding"][0]["code"] == "non-serious"
    assert [c["code"] for c in event["severity"]["coding"]] == ["severe", "3"]
    assert event["outcome"]["coding"][0]["code"] == "resolved"
    urls = by_full_url(bundle)
    suspects = [urls[s["instance"]["reference"]] for s in event["suspectEntity"]]
    assert suspects[0]["lotNumber"] == "EXO-2291"
    assert suspects[1]["id"] == f"procedure-{record['done'].pk}"
    assert "Darkening at the malar edges" in event["text"]["div"]
    assert "Started azelaic acid" in event["text"]["div"]


@pytest.mark.parametrize("grade, severity", [(1, "mild"), (2, "moderate"), (3, "severe"), (4, "severe"), (5, "severe")])
def test_severity_from_ctcae_grade(grade, severity):
    from plans.fhir.mapping import severity_concept

    codings = severity_concept(grade)["coding"]
    assert (codings[0]["code"], codings[1]["code"]) == (severity, str(grade))


def test_consents_carry_scope_version_text_date_and_performer(record, bundle):
    consents = resources(bundle, "Consent")
    exosome = [c for c in consents if "exosome" in c["policy"][0]["uri"]][0]
    assert exosome["status"] == "active"
    assert exosome["scope"]["coding"][0]["code"] == "treatment"
    assert exosome["category"][0]["coding"][0]["code"] == "59284-0"
    assert exosome["policy"][0]["uri"] == f"{BASE}/consent-text/exosome/v2"
    assert base64.b64decode(exosome["sourceAttachment"]["data"]).decode() == "Exosome consent body"
    assert "version 2" in exosome["sourceAttachment"]["title"]
    urls = by_full_url(bundle)
    assert {urls[p["reference"]]["resourceType"] for p in exosome["performer"]} == {"Patient", "Practitioner"}


def test_aftercare_sheet_is_a_readable_pdf_with_its_text_versions(record, bundle, tmp_path):
    document = by_id(bundle)[f"aftercare-sheet-{record['sheet'].pk}"]
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    pdf = base64.b64decode(attachment["data"])
    assert attachment["size"] == len(pdf)
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "Nadia Rahman" in text
    assert "v1" in document["description"]
    assert by_full_url(bundle)[document["context"]["related"][0]["reference"]]["id"] == f"procedure-{record['sessions'][0].pk}"


def test_query_count_does_not_grow_with_courses_sessions_or_assessments(django_assert_max_num_queries):
    small = two_course_patient()
    with django_assert_max_num_queries(10):
        record = patient_record(small["patient"].pk)
    with django_assert_max_num_queries(0):
        patient_bundle(record)
    large = two_course_patient(extra_sessions=6, extra_assessments=12, tag="-b")
    with django_assert_max_num_queries(10):
        record = patient_record(large["patient"].pk)
    with django_assert_max_num_queries(0):
        bundle = patient_bundle(record)
    assert len(resources(bundle, "Procedure")) == 10


# --- the page --------------------------------------------------------------------------------------------


def test_permission_ladder(role_clients, record):
    url = reverse("patients:fhir", args=[record["patient"].pk])
    assert role_clients["anonymous"].get(url).status_code in (302, 403)
    assert role_clients["front_desk"].get(url).status_code == 403
    for role in ("clinician", "manager"):
        response = role_clients[role].get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/fhir+json")
        validate(json.loads(response.content))


def test_each_request_writes_one_access_log_row(clinician_client, clinician, front_desk_client, record):
    patient = record["patient"]
    url = reverse("patients:fhir", args=[patient.pk])
    before = AccessLog.objects.count()
    clinician_client.get(url)
    clinician_client.get(url)
    front_desk_client.get(url)  # refused: not logged as an opening
    rows = AccessLog.objects.order_by("id")[before:]
    assert [(r.user_id, r.patient_id, r.path) for r in rows] == [(clinician.pk, patient.pk, url)] * 2


def test_unknown_patient_is_404_and_not_logged(clinician_client):
    before = AccessLog.objects.count()
    assert clinician_client.get(reverse("patients:fhir", args=[999999])).status_code == 404
    assert AccessLog.objects.count() == before


def test_patient_page_links_to_the_bundle_for_clinicians_only(clinician_client, front_desk_client, record):
    patient = record["patient"]
    url = reverse("patients:fhir", args=[patient.pk])
    assert url in clinician_client.get(patient.get_absolute_url()).content.decode()
    assert url not in front_desk_client.get(patient.get_absolute_url()).content.decode()
