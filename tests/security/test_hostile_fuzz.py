"""Hostile input answered fast (issue 11 §5): the query string of every GET page of the URL matrix, and every
file field of the project, fuzzed. No request may answer 500, and none may take over 2 s (a guard against a hang
or a decompression bomb tying up a worker, not a benchmark)."""

from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.urlmatrix import PUBLIC, URL_MATRIX
from tests.security.conftest import url_for
from tests.security.fuzz import (
    HOSTILE_UPLOADS, QUERY_NAMES, QUERY_PARAM, QUERY_SWEEP, SLOWEST,
    database_fingerprint, extreme_values, file_fields, get_form_names, main_form, png_claiming, timed,
)
from tests.security.test_forms_fuzz import FORM_PAGES, _ready_to_record

pytestmark = pytest.mark.django_db

GET_PAGES = sorted(name for name, row in URL_MATRIX.items() if row["method"] == "get")
FEW = settings(max_examples=10, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _client_for_page(name, role_clients):
    row = URL_MATRIX[name]
    return role_clients["anonymous" if row["roles"] == PUBLIC else sorted(row["roles"])[0]]


def _answers_fast_and_not_500(client, url, params, label):
    query = urlencode(params, doseq=True)
    response, seconds = timed(lambda: client.get(f"{url}?{query}"))
    assert response.status_code < 500, (label, response.status_code, query[:300])
    assert seconds < SLOWEST, (label, f"{seconds:.2f}s", query[:300])
    return response


@pytest.mark.parametrize("name", GET_PAGES)
def test_every_get_page_survives_a_hostile_query_string(role_clients, world, name):
    client = _client_for_page(name, role_clients)
    url = url_for(name, world)
    page = client.get(url)  # untimed: the first render of a page (fonts for a PDF, say) is not the question
    assert page.status_code < 500, name
    html = page.content.decode(errors="replace") if "html" in page.get("Content-Type", "") else ""
    names = list(dict.fromkeys(QUERY_NAMES + get_form_names(html)))

    # The sharpest values in every parameter at once, then each date parameter alone (a good "by" must not hide
    # a bad date), then repeated parameters.
    for value in QUERY_SWEEP:
        _answers_fast_and_not_500(client, url, {key: value for key in names}, name)
    for key in ("date", "date_from", "date_to"):
        for value in ("9999-12-31", "0001-01-01"):
            _answers_fast_and_not_500(client, url, {key: value}, name)
    _answers_fast_and_not_500(client, url, [("date", "2026-01-01"), ("date", "9999-12-31"), ("page", "2"),
                                            ("page", "-1"), ("page", "9" * 50)], name)

    @FEW
    @given(params=st.dictionaries(st.sampled_from(names), QUERY_PARAM, max_size=6))
    def run(params):
        _answers_fast_and_not_500(client, url, params, name)

    run()


# --- uploads --------------------------------------------------------------------------------------------------

def _consent_fields():
    return {"patient_printed_name": "Ann Lee", "signature": "Ann Lee", "patient_confirms": "on",
            "witness_name": "Nurse Kay", "signed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}


def _photo_fields():
    return {"view": "front", "taken_on": timezone.localdate().isoformat()}


def _fhir_import_fields():
    return {"fhir_import": "Import from FHIR"}  # the upload's own button: the page's other form is the patient


# Every page with a file field, with valid values for its other fields so the upload is what gets judged.
UPLOAD_PAGES = {
    "plans:session_photo_new": ("image", _photo_fields),
    "plans:plan_photo_new": ("image", _photo_fields),
    "plans:consent": ("scanned_form", _consent_fields),
    "patients:new": ("fhir_file", _fhir_import_fields),
}
# The context name of the form holding the file field, where it is not the page's "form".
UPLOAD_FORM_CONTEXT = {"patients:new": "import_form"}


def test_every_file_field_of_the_project_is_fuzzed(role_clients, world):
    """A new upload field must join UPLOAD_PAGES (and so the hostile uploads below)."""
    found = {}
    for name in GET_PAGES:
        client = _client_for_page(name, role_clients)
        response = client.get(url_for(name, world))
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            for field in file_fields(response.content.decode()):
                found[name] = field
    assert found == {name: field for name, (field, _) in UPLOAD_PAGES.items()}


@pytest.mark.parametrize("upload", sorted(HOSTILE_UPLOADS))
@pytest.mark.parametrize("name", sorted(UPLOAD_PAGES))
def test_hostile_upload_is_refused_with_a_field_message_fast(role_clients, world, name, upload):
    field, valid_fields = UPLOAD_PAGES[name]
    client = _client_for_page(name, role_clients)
    url = url_for(name, world)
    file_name, make, content_type = HOSTILE_UPLOADS[upload]
    data = make()
    before = database_fingerprint()
    response, seconds = timed(lambda: client.post(url, {**valid_fields(),
                                                         field: SimpleUploadedFile(file_name, data, content_type)}))
    assert response.status_code == 200, (name, upload, response.status_code)
    assert seconds < SLOWEST, (name, upload, f"{seconds:.2f}s")
    if data:  # an empty file is "no file": the photo field says it is required, the optional scan is ignored
        assert response.context[UPLOAD_FORM_CONTEXT.get(name, "form")].errors.get(field), (name, upload)
    assert database_fingerprint() == before, (name, upload)


def test_a_drawn_signature_bomb_is_refused_fast(role_clients, world):
    import base64

    client = role_clients["clinician"]
    url = url_for("plans:consent", world)
    bomb = "data:image/png;base64," + base64.b64encode(png_claiming(20_000, 20_000)).decode()
    before = database_fingerprint()
    response, seconds = timed(lambda: client.post(url, {**_consent_fields(), "signature": "", "signature_drawing": bomb}))
    assert response.status_code == 200 and seconds < SLOWEST
    assert "megapixels" in " ".join(response.context["form"].errors["signature_drawing"])
    assert database_fingerprint() == before


# --- extreme values in date, time and number fields of every form -----------------------------------------------


@pytest.mark.parametrize("name", FORM_PAGES)
def test_every_form_survives_extreme_dates_and_numbers(role_clients, world, clinician, name):
    """One field at a time set to an extreme (year 1, year 9999, 40 nines…), the rest of the form as the page
    filled it in, so the extreme value reaches the code behind a form that is otherwise valid."""
    row = URL_MATRIX[name]
    client = role_clients[sorted(row["roles"])[0]]
    if name == "plans:session_record":
        _ready_to_record(world, clinician)
    url = url_for(name, world)
    page = client.get(url)
    assert page.status_code == 200, (name, page.status_code)
    form = main_form(page.content.decode())
    target = form["action"] or url
    for field in form["names"]:
        for value in extreme_values(form, field):
            data = form["values"] | {field: value}
            send = (lambda: client.post(target, data)) if form["method"] == "post" else (lambda: client.get(target, data))
            response, seconds = timed(send)
            assert response.status_code < 500, (name, field, value)
            assert seconds < SLOWEST, (name, field, value, f"{seconds:.2f}s")
    # Whatever was accepted, the page (and what it shows) still renders.
    assert client.get(url).status_code < 500, name
