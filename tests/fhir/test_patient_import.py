"""A new patient from a FHIR Patient resource (issue 15 §4): the upload fills in the new-patient form for checking,
nothing is saved until Save; refused files get a message at the upload field; invalid elements a message next to
their field; elements with no place on the form are listed; export → import gives back the same values."""

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given, settings
from hypothesis import strategies as st

from patients.forms import DOB_IMPLAUSIBLE, DOB_IN_FUTURE, IMPORT_BUTTON
from patients.models import Patient
from plans.fhir import importing
from plans.fhir.mapping import patient_resource
from tests.factories import PatientFactory, UserFactory
from tests.fhir.helpers import NOW, TODAY, two_course_patient
from tests.security.fuzz import database_fingerprint, main_form

pytestmark = pytest.mark.django_db

MRN_SYSTEM = "https://clinic.example.org/fhir/sid/mrn"


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW)


def patient_json(**overrides) -> dict:
    """A Patient as this app exports one (plans.fhir.mapping.patient_resource), with ``overrides``."""
    resource = {
        "resourceType": "Patient",
        "id": "patient-7",
        "identifier": [{"use": "usual", "system": MRN_SYSTEM, "value": "MRN-4711"}],
        "active": True,
        "name": [{"use": "official", "family": "Rahman", "given": ["Nadia"]}],
        "gender": "female",
        "birthDate": "1985-03-14",
        "telecom": [{"system": "phone", "value": "+44 7700 900123"}, {"system": "email", "value": "nadia@example.com"}],
        "address": [{"text": "1 High Street\nLondon N1 1AA"}],
        "contact": [{
            "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "C"}]}],
            "name": {"text": "Omar Rahman, 07700 900456"},
        }],
    }
    resource.update(overrides)
    return {key: value for key, value in resource.items() if value is not None}


def upload(client, content, name="patient.json"):
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    return client.post("/patients/new/", {
        IMPORT_BUTTON: "Import from FHIR", "fhir_file": SimpleUploadedFile(name, raw, "application/fhir+json"),
    })


def field_errors(response, name) -> list[str]:
    return response.context["form"].errors.get(name, [])


def upload_error(response) -> list[str]:
    return response.context["import_form"].errors.get("fhir_file", [])


# --- a valid Patient ---------------------------------------------------------------------------------------


def test_the_new_patient_page_offers_the_fhir_upload(front_desk_client):
    response = front_desk_client.get("/patients/new/")
    assert response.status_code == 200
    html = response.text
    assert "Import from a FHIR Patient (JSON)" in html
    assert 'enctype="multipart/form-data"' in html and 'name="fhir_file"' in html


def test_a_valid_patient_fills_in_the_form_and_nothing_is_saved(front_desk_client):
    before = database_fingerprint()
    response = upload(front_desk_client, patient_json(), name="nadia.json")
    assert response.status_code == 200
    form = response.context["form"]
    assert {name: form[name].value() for name in importing.IMPORTED_FIELDS} == {
        "mrn": "MRN-4711", "first_name": "Nadia", "last_name": "Rahman", "date_of_birth": "1985-03-14", "sex": "F",
        "phone": "+44 7700 900123", "email": "nadia@example.com", "email_consent": False,
        "address": "1 High Street\nLondon N1 1AA", "emergency_contact": "Omar Rahman, 07700 900456",
    }
    assert form.is_valid(), form.errors
    assert "Read from nadia.json" in response.text and "Nothing has been saved yet" in response.text
    assert 'value="Nadia"' in response.text
    assert database_fingerprint() == before
    assert not Patient.objects.exists()


def test_save_after_the_import_creates_the_patient_with_those_values(front_desk_client):
    page = upload(front_desk_client, patient_json())
    form = main_form(page.text)  # the patient form as the browser would send it, unchanged
    assert not Patient.objects.exists()

    response = front_desk_client.post("/patients/new/", form["values"])

    patient = Patient.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    assert (patient.mrn, patient.first_name, patient.last_name, patient.date_of_birth, patient.sex) == (
        "MRN-4711", "Nadia", "Rahman", dt.date(1985, 3, 14), "F")
    assert (patient.phone, patient.email, patient.email_consent) == ("+44 7700 900123", "nadia@example.com", False)
    assert patient.address == "1 High Street\nLondon N1 1AA"
    assert patient.emergency_contact == "Omar Rahman, 07700 900456"


def test_email_consent_is_never_inferred(front_desk_client):
    response = upload(front_desk_client, patient_json())
    assert response.context["form"]["email_consent"].value() is False
    assert 'name="email_consent"' in response.text and "checked" not in _input(response.text, "email_consent")
    assert importing.NOTE_NO_EMAIL_CONSENT in response.text.replace("&#x27;", "'")


def _input(html: str, name: str) -> str:
    start = html.index(f'name="{name}"')
    return html[html.rindex("<input", 0, start): html.index(">", start)]


def test_a_clinician_is_told_the_screening_is_not_in_the_file(clinician_client):
    response = upload(clinician_client, patient_json())
    assert response.status_code == 200
    assert "Melasma history and screening answers are not part of a FHIR Patient" in response.text
    form = response.context["form"]
    assert form["hormonal_contraception"].value() == "none" and form["is_pregnant"].value() is False


# --- refused files: a message at the upload field, nothing saved ------------------------------------------


BIG = b'{"resourceType": "Patient", "text": {"div": "' + b"x" * importing.MAX_BYTES + b'"}}'
DEEP = b'{"resourceType": "Patient", "extension": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize("content,message", [
    (b"{not json", importing.ERR_NOT_JSON.format(detail="Expecting property name enclosed in double quotes at "
                                                        "line 1, column 2")),
    (b'{"resourceType": "Patient", "name": "\xff\xfe"}', importing.ERR_NOT_UTF8),
    (b'["Patient"]', importing.ERR_NOT_FHIR),
    (b'{"name": "Nadia Rahman", "birthDate": "1985-03-14"}', importing.ERR_NOT_FHIR),
    (b'{"resourceType": 7}', importing.ERR_NOT_FHIR),
    (b'{"resourceType": "Observation", "status": "final"}', importing.ERR_NOT_PATIENT.format(type="Observation")),
    (b'{"resourceType": "Patient", "multipleBirthInteger": NaN}', importing.ERR_NOT_JSON.format(
        detail="NaN is not a JSON value")),
    (b'{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Condition"}}]}',
     importing.ERR_BUNDLE_NO_PATIENT),
    (json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": patient_json()}, {"resource": patient_json(id="patient-8")}]}).encode(),
     importing.ERR_BUNDLE_MANY_PATIENTS.format(count=2)),
    (DEEP, importing.ERR_TOO_DEEP),
    (BIG, importing.ERR_TOO_LARGE),
    (b"", "The submitted file is empty."),
], ids=["invalid JSON", "not UTF-8", "JSON array", "JSON but not FHIR", "resourceType not text", "Observation",
        "NaN", "Bundle without a Patient", "Bundle with two Patients", "nested too deep", "too large", "empty"])
def test_a_file_that_is_not_a_patient_is_refused_at_the_upload_field(front_desk_client, content, message):
    before = database_fingerprint()
    response = upload(front_desk_client, content)
    assert response.status_code == 200
    assert upload_error(response) == [message]
    assert not response.context["form"].is_bound  # the patient form is left empty
    assert "imported" not in response.context
    assert database_fingerprint() == before


def test_the_size_limit_boundary(front_desk_client):
    padding = importing.MAX_BYTES - len(json.dumps(patient_json(text={"status": "generated", "div": ""})))
    just_fits = json.dumps(patient_json(text={"status": "generated", "div": "x" * padding})).encode()
    assert len(just_fits) == importing.MAX_BYTES
    assert upload_error(upload(front_desk_client, just_fits)) == []
    assert upload_error(upload(front_desk_client, just_fits + b" ")) == [importing.ERR_TOO_LARGE]


# --- invalid elements: a message next to the field ---------------------------------------------------------


@pytest.mark.parametrize("overrides,field,expected", [
    ({"gender": "femme"}, "sex", "gender 'femme' is not a FHIR code (male, female, other, unknown): choose the sex."),
    ({"gender": None}, "sex", "The file gives no gender: choose the sex."),
    ({"birthDate": "1985-13-45"}, "date_of_birth",
     "birthDate: Date value string does not match spec regex (found '1985-13-45')."),
    ({"birthDate": "14/03/1985"}, "date_of_birth",
     "birthDate: Date value string does not match spec regex (found '14/03/1985')."),
    ({"birthDate": "1985"}, "date_of_birth",
     "The birth date 1985 gives only the year or month: enter the full date of birth."),
    ({"birthDate": None}, "date_of_birth", "The file gives no birth date."),
    ({"name": [{"text": "Nadia Rahman"}]}, "first_name",
     "The name is only given as the text 'Nadia Rahman': enter the first and last names."),
    ({"name": [{"family": "Rahman", "given": "Nadia"}]}, "first_name",
     "name[0].given: Input should be a valid list (found 'Nadia')."),
    ({"name": [{"family": ["Rahman"], "given": ["Nadia"]}]}, "last_name",
     "name[0].family: Input should be a valid string."),
    ({"telecom": [{"system": "email", "value": 42}]}, "email",
     "telecom[0].value: Input should be a valid string (found 42)."),
    ({"identifier": [{"system": MRN_SYSTEM, "value": {"v": 1}}]}, "mrn",
     "identifier[0].value: Input should be a valid string."),
], ids=["unknown gender code", "no gender", "impossible date", "not ISO", "year only", "no birth date",
        "name as text only", "given not a list", "family not text", "email not text", "MRN not text"])
def test_an_invalid_element_is_reported_next_to_its_field(front_desk_client, overrides, field, expected):
    response = upload(front_desk_client, patient_json(**overrides))
    assert response.status_code == 200
    assert expected in field_errors(response, field)
    assert expected.replace("'", "&#x27;") in response.text
    assert not Patient.objects.exists()


@pytest.mark.parametrize("gender", [None, "femme"])
def test_without_a_usable_gender_no_sex_is_preselected(front_desk_client, gender):
    response = upload(front_desk_client, patient_json(gender=gender))
    html = response.text
    select = html[html.index('name="sex"'): html.index("</select>", html.index('name="sex"'))]
    assert '<option value="" selected>Choose…</option>' in select
    assert "selected" not in select.replace('<option value="" selected>', "")


@pytest.mark.parametrize("birth_date,error", [
    (TODAY, None),
    (TODAY + dt.timedelta(days=1), DOB_IN_FUTURE),
    (dt.date(TODAY.year - 120, 1, 1), None),
    (dt.date(TODAY.year - 121, 12, 31), DOB_IMPLAUSIBLE),
    (dt.date(2199, 12, 31), DOB_IN_FUTURE),
], ids=["today", "tomorrow", "120 years ago", "over 120 years ago", "end of the app's range"])
def test_the_forms_own_checks_run_on_the_imported_values(front_desk_client, birth_date, error):
    response = upload(front_desk_client, patient_json(birthDate=birth_date.isoformat()))
    assert field_errors(response, "date_of_birth") == ([error] if error else [])


def test_a_birth_date_past_the_apps_range_is_refused_with_a_message(front_desk_client):
    response = upload(front_desk_client, patient_json(birthDate="9999-12-31"))
    assert response.status_code == 200
    assert field_errors(response, "date_of_birth") == [DOB_IN_FUTURE]


def test_an_mrn_already_in_use_is_reported_next_to_the_mrn(front_desk_client):
    PatientFactory(mrn="MRN-4711")
    response = upload(front_desk_client, patient_json())
    assert field_errors(response, "mrn") == ["Patient with this Medical record number already exists."]


def test_without_the_clinics_mrn_the_mrn_is_left_to_enter(front_desk_client):
    other = {"system": "https://other-clinic.example/fhir/sid/mrn", "value": "A-1"}
    response = upload(front_desk_client, patient_json(identifier=[other]))
    assert response.context["form"]["mrn"].value() == ""
    assert field_errors(response, "mrn") == ["This field is required."]
    assert importing.NOTE_NO_MRN.format(system=MRN_SYSTEM).replace("'", "&#x27;") in response.text
    assert "identifier A-1 (system https://other-clinic.example/fhir/sid/mrn)" in _not_imported(response)


def test_a_deceased_patient_and_modifier_extensions_are_flagged_above_the_form(front_desk_client):
    response = upload(front_desk_client, patient_json(
        deceasedBoolean=True, modifierExtension=[{"url": "http://example.org/unknown-modifier", "valueBoolean": True}]))
    general = [problem.message for problem in response.context["imported"].general_problems]
    assert any("records the patient as deceased" in message for message in general)
    assert any("http://example.org/unknown-modifier" in message for message in general)
    assert "Problems in the file:" in response.text


def test_an_element_that_is_not_in_fhir_is_listed_as_a_problem(front_desk_client):
    response = upload(front_desk_client, patient_json(favouriteColour="green"))
    assert "favouriteColour: is not an element of a FHIR R4 Patient." in [
        p.message for p in response.context["imported"].general_problems]


def test_a_value_the_validator_itself_cannot_read_is_named_not_a_500(front_desk_client):
    # fhir.resources 8.3.0 raises AttributeError (not a validation error) on a boolean Attachment.url
    response = upload(front_desk_client, patient_json(photo=[{"url": False}], gender="femme"))
    assert response.status_code == 200
    assert "photo: is not valid FHIR (the validator cannot read it)." in [
        p.message for p in response.context["imported"].general_problems]
    assert field_errors(response, "sex")  # the rest of the file is still checked
    assert response.context["form"]["first_name"].value() == "Nadia"


# --- elements with no place on the form -------------------------------------------------------------------


def _not_imported(response) -> str:
    html = response.text
    start = html.index('id="fhir-not-imported"')
    return html[start: html.index("</ul>", start)]


def test_elements_without_a_place_on_the_form_are_listed(front_desk_client):
    response = upload(front_desk_client, patient_json(
        identifier=[{"system": MRN_SYSTEM, "value": "MRN-4711"}, {"system": "https://fhir.nhs.uk/Id/nhs-number",
                                                                  "value": "9434765919"}],
        name=[{"use": "official", "family": "Rahman", "given": ["Nadia"], "prefix": ["Dr"]},
              {"use": "maiden", "family": "Khan", "given": ["Nadia"]}],
        telecom=[{"system": "phone", "value": "+44 7700 900123"}, {"system": "phone", "value": "020 7946 0000",
                                                                   "use": "work"},
                 {"system": "fax", "value": "020 7946 0001"}],
        address=[{"use": "home", "text": "1 High Street"}, {"use": "work", "line": ["2 Low Road"], "city": "Leeds"}],
        maritalStatus={"text": "Married"},
        photo=[{"contentType": "image/png", "data": "iVBORw0KGgo="}],
        extension=[{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                    "valueAddress": {"city": "Dhaka"}}],
        _birthDate={"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                   "valueDateTime": "1985-03-14T08:30:00Z"}]},
        active=False,
    ))
    listed = _not_imported(response)
    for text in [
        "identifier 9434765919 (system https://fhir.nhs.uk/Id/nhs-number)", "name prefix: [&quot;Dr&quot;]",
        "another name (maiden): Nadia Khan", "phone (work) 020 7946 0000", "fax 020 7946 0001",
        "another address (work): 2 Low Road Leeds", "marital status", "photo (1 attached)",
        "extensions: http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "extensions on birthDate",
        "the record is inactive at its source", "the record&#x27;s id at its source: patient-7",
    ]:
        assert text in listed, text
    form = response.context["form"]
    assert (form["phone"].value(), form["address"].value()) == ("+44 7700 900123", "1 High Street")


def test_a_long_list_of_unmapped_elements_is_cut_short(front_desk_client):
    telecom = [{"system": "phone", "value": f"020 7946 {n:04d}"} for n in range(500)]
    response = upload(front_desk_client, patient_json(telecom=telecom))
    listed = response.context["imported"].not_imported
    assert len(listed) == importing.MAX_LISTED + 1
    assert listed[-1].message == f"and {499 + 1 - importing.MAX_LISTED} more not listed."  # 499 phones and the id


# --- the mapping itself (pure) -----------------------------------------------------------------------------


@pytest.mark.parametrize("names,first,last", [
    ([{"use": "usual", "family": "Ray", "given": ["Nadi"]},
      {"use": "official", "family": "Rahman", "given": ["Nadia"]}], "Nadia", "Rahman"),
    ([{"use": "old", "family": "Khan", "given": ["Nadia"]}, {"use": "usual", "family": "Rahman", "given": ["Nadia"]}],
     "Nadia", "Rahman"),
    ([{"family": "Rahman", "given": ["Nadia", "Begum"]}], "Nadia Begum", "Rahman"),
    ([{"use": "old", "family": "Khan", "given": ["Nadia"]}], "Nadia", "Khan"),
], ids=["official before usual", "old names skipped", "given names joined", "only an old name"])
def test_the_name_chosen(names, first, last):
    values = importing.patient_form_values(patient_json(name=names)).values
    assert (values["first_name"], values["last_name"]) == (first, last)


@pytest.mark.parametrize("gender,sex", [("female", "F"), ("male", "M"), ("other", "X"), ("unknown", "X")])
def test_gender_codes(gender, sex):
    assert importing.patient_form_values(patient_json(gender=gender)).values["sex"] == sex


def test_an_address_in_parts_is_written_as_lines():
    address = {"use": "home", "line": ["Flat 2", "1 High Street"], "city": "London", "postalCode": "N1 1AA",
               "country": "United Kingdom"}
    values = importing.patient_form_values(patient_json(address=[address])).values
    assert values["address"] == "Flat 2\n1 High Street\nLondon N1 1AA\nUnited Kingdom"


def _relationship(code: str) -> list[dict]:
    return [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": code}]}]


def test_an_emergency_contact_with_a_name_in_parts_and_a_phone():
    contact = {"relationship": _relationship("C"), "name": {"family": "Rahman", "given": ["Omar"]},
               "telecom": [{"system": "phone", "value": "07700 900456"}]}
    guardian = {"relationship": _relationship("N"), "name": {"text": "Aisha Rahman"}}
    result = importing.patient_form_values(patient_json(contact=[guardian, contact]))
    assert result.values["emergency_contact"] == "Omar Rahman, 07700 900456"
    assert [p.message for p in result.not_imported if p.element == "contact[0]"] == ["contact: Aisha Rahman"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["use", "system", "value", "code", "coding", "relationship", "given", "family", "text",
                         "line", "city", "name", "telecom", "url"]) | st.text(max_size=5), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(resource=st.fixed_dictionaries({"resourceType": st.just("Patient")}, optional={
    name: JSON for name in ["identifier", "name", "gender", "birthDate", "telecom", "address", "contact", "active",
                            "deceasedBoolean", "deceasedDateTime", "modifierExtension", "photo", "extension",
                            "_birthDate", "id", "maritalStatus"]}))
def test_validation_and_mapping_take_any_json_without_raising(resource):
    result = importing.patient_import(json.dumps(resource).encode())
    assert set(result.values) == set(importing.IMPORTED_FIELDS)
    assert all(isinstance(value, str) for name, value in result.values.items() if name != "email_consent")
    assert result.values["email_consent"] is False


# --- round trip: export → import -------------------------------------------------------------------------


@pytest.mark.parametrize("sex", ["F", "M", "X"])
def test_a_patient_exported_then_imported_keeps_every_value_of_the_form(sex):
    patient = PatientFactory(
        mrn="MRN-9001", first_name="Mary Ann", last_name="O'Neill", date_of_birth=dt.date(1979, 12, 31), sex=sex,
        phone="+44 (0)20 7946-0000", email="mary@example.com", email_consent=True,
        address="Flat 2\n1 High Street\nLondon", emergency_contact="Sean O'Neill, 07700 900999",
    )
    result = importing.patient_form_values(json.loads(json.dumps(patient_resource(patient))))
    assert result.invalid == []
    assert result.values == {
        "mrn": "MRN-9001", "first_name": "Mary Ann", "last_name": "O'Neill", "date_of_birth": "1979-12-31",
        "sex": sex, "phone": "+44 (0)20 7946-0000", "email": "mary@example.com",
        "email_consent": False,  # exported because she agreed; the agreement itself is asked again
        "address": "Flat 2\n1 High Street\nLondon", "emergency_contact": "Sean O'Neill, 07700 900999",
    }
    assert [p.element for p in result.not_imported] == ["id"]


def test_the_apps_own_bundle_imports_end_to_end(clinician_client, manager_client):
    record = two_course_patient()
    original = record["patient"]
    bundle = manager_client.get(f"/patients/{original.pk}/fhir/")
    assert bundle.status_code == 200
    Patient.objects.filter(pk=original.pk).update(mrn="MRN-OLD")  # as if the file reached another clinic's copy

    page = upload(clinician_client, bundle.content, name="rahman.json")
    assert page.status_code == 200
    assert "Bundle" in _not_imported(page) and "CarePlan ×2" in _not_imported(page)
    form = main_form(page.text)
    form["values"]["hormonal_contraception"] = "none"
    response = clinician_client.post("/patients/new/", form["values"])
    assert response.status_code == 302
    copy = Patient.objects.get(mrn="MRN-4711")
    fields = ["first_name", "last_name", "date_of_birth", "sex", "phone", "address", "emergency_contact"]
    assert [getattr(copy, f) for f in fields] == [getattr(original, f) for f in fields]
    assert copy.email == ""  # not exported: she had not agreed to email
    assert copy.fitzpatrick_type is None  # clinical history is not part of a Patient resource


# --- permissions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role,status", [
    ("anonymous", 302), ("clinician", 200), ("front_desk", 200), ("manager", 200),
])
def test_permission_ladder(role_clients, role, status):
    """Every role holds patients.add_patient (clinic/roles.py), so every role may import."""
    response = upload(role_clients[role], patient_json())
    assert response.status_code == status
    if role == "anonymous":
        assert response["Location"].startswith("/login/")
    assert not Patient.objects.exists()


def test_staff_without_add_patient_get_403(client):
    client.force_login(UserFactory())  # signed in, no role
    assert client.get("/patients/new/").status_code == 403
    assert upload(client, patient_json()).status_code == 403
    assert not Patient.objects.exists()
