"""Patients (issue 2): permission ladder, validation, history, search, archive, query budgets."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients import forms as pforms
from patients.models import Patient
from tests.factories import PatientFactory
from tests.clock import clinic_time

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "clinician", "front_desk", "manager"]


def _valid_post(**overrides):
    data = {
        "mrn": "mrn-1001", "first_name": "Nadia", "last_name": "Karimi", "date_of_birth": "1986-03-14",
        "sex": "F", "phone": "+44 7700 900001", "email": "nadia@example.com", "email_consent": "on",
        "address": "", "emergency_contact": "", "hormonal_contraception": "none",
    }
    data.update(overrides)
    return data


# (url, method, roles allowed). Everything else gets 403; anonymous is sent to the login page.
LADDER = [
    ("/patients/", "get", {"clinician", "front_desk", "manager"}),
    ("/patients/new/", "get", {"clinician", "front_desk", "manager"}),
    ("/patients/{id}/", "get", {"clinician", "front_desk", "manager"}),
    ("/patients/{id}/edit/", "get", {"clinician", "front_desk", "manager"}),
    ("/patients/{id}/history/", "get", {"manager"}),
    ("/patients/{id}/confirm-screening/", "post", {"clinician"}),
    ("/patients/{id}/archive/", "post", {"clinician", "manager"}),
    ("/patients/{id}/restore/", "post", {"clinician", "manager"}),
]


@pytest.mark.parametrize("url,method,allowed", LADDER)
@pytest.mark.parametrize("role", ROLES)
def test_permission_ladder(role_clients, role, url, method, allowed):
    patient = PatientFactory()
    response = getattr(role_clients[role], method)(url.format(id=patient.pk))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    elif role in allowed:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403


def test_front_desk_creates_patient_and_history_names_them(front_desk_client, front_desk):
    response = front_desk_client.post("/patients/new/", _valid_post())
    patient = Patient.objects.get(mrn="MRN-1001")
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    record = patient.history.get()
    assert record.history_type == "+" and record.history_user == front_desk


def test_front_desk_cannot_change_clinical_history(front_desk_client):
    patient = PatientFactory(is_pregnant=False, fitzpatrick_type=3)
    data = _valid_post(mrn=patient.mrn, is_pregnant="on", fitzpatrick_type="6", first_name="Renamed")
    response = front_desk_client.post(f"/patients/{patient.pk}/edit/", data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.first_name == "Renamed"  # demographics saved
    assert patient.is_pregnant is False and patient.fitzpatrick_type == 3  # clinical fields untouched
    assert "Pregnant" not in front_desk_client.get(f"/patients/{patient.pk}/edit/").text


def test_clinician_edit_keeps_history_with_who_and_what(clinician_client, clinician, manager_client):
    patient = PatientFactory(first_name="Old")
    data = _valid_post(mrn=patient.mrn, first_name="New", is_pregnant="on", fitzpatrick_type="4")
    assert clinician_client.post(f"/patients/{patient.pk}/edit/", data).status_code == 302
    latest = patient.history.order_by("-history_date").first()
    assert latest.history_user == clinician and latest.first_name == "New" and latest.is_pregnant
    page = manager_client.get(f"/patients/{patient.pk}/history/").text
    assert "dr_adams" in page and "Old" in page and "New" in page


NOW = clinic_time("2026-11-30", "10:30")  # a fixed clinic morning; every date below is built from it
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW)  # ticks on, so records made one after the other keep their order


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("date_of_birth", (TODAY + dt.timedelta(days=1)).isoformat(), pforms.DOB_IN_FUTURE),
        ("date_of_birth", "1890-01-01", pforms.DOB_IMPLAUSIBLE),
        ("date_of_birth", "not-a-date", "Enter a valid date."),
        ("phone", "call me maybe", pforms.PHONE_INVALID),
        ("email", "nadia-at-example", "Enter a valid email address."),
        ("last_name", "", "This field is required."),
        ("mrn", "x" * 30, "Ensure this value has at most 20 characters"),
    ],
)
def test_bad_input_shows_message_and_saves_nothing(clinician_client, field, value, message):
    before = Patient.objects.count()
    response = clinician_client.post("/patients/new/", _valid_post(**{field: value}))
    assert response.status_code == 200
    assert message in response.text
    assert f'id="error_1_id_{field}"' in response.text  # the message sits next to its field
    assert Patient.objects.count() == before


def test_rejected_edit_leaves_record_unchanged(clinician_client):
    patient = PatientFactory(first_name="Keep", phone="+44 7700 900555")
    data = _valid_post(mrn=patient.mrn, first_name="Changed", phone="nonsense!")
    response = clinician_client.post(f"/patients/{patient.pk}/edit/", data)
    assert response.status_code == 200 and pforms.PHONE_INVALID in response.text
    patient.refresh_from_db()
    assert patient.first_name == "Keep" and patient.history.count() == 1


def test_future_screening_date_rejected(clinician_client):
    future = (TODAY + dt.timedelta(days=3)).isoformat()
    response = clinician_client.post("/patients/new/", _valid_post(isotretinoin_last_dose=future))
    assert pforms.DATE_IN_FUTURE in response.text and not Patient.objects.exists()


def test_duplicate_name_and_birth_date_warns_but_saves(clinician_client):
    PatientFactory(first_name="Nadia", last_name="Karimi", date_of_birth=dt.date(1986, 3, 14), mrn="OLD1")
    response = clinician_client.post("/patients/new/", _valid_post(), follow=True)
    assert "same name and date of birth already exists" in response.text
    assert Patient.objects.filter(last_name="Karimi").count() == 2


def test_duplicate_mrn_refused(clinician_client):
    PatientFactory(mrn="MRN-1001")
    response = clinician_client.post("/patients/new/", _valid_post())
    assert "already exists" in response.text and Patient.objects.count() == 1


@pytest.mark.parametrize(
    "query,expected",
    [("Karimi", True), ("kar", True), ("nadia kar", True), ("MRN-1001", True), ("mrn-1001", True),
     ("07700 900001", True), ("900001", True), ("1986-03-14", True), ("14/03/1986", True), ("Smith", False),
     ("1990-01-01", False)],
)
def test_search_by_name_mrn_phone_and_birth_date(front_desk_client, query, expected):
    PatientFactory(mrn="MRN-1001", first_name="Nadia", last_name="Karimi", phone="+44 7700 900001",
                   date_of_birth=dt.date(1986, 3, 14))
    PatientFactory(mrn="MRN-2002", first_name="Olga", last_name="Berg", phone="+44 7700 123456",
                   date_of_birth=dt.date(1970, 1, 1))
    page = front_desk_client.get("/patients/", {"q": query}).text
    assert ("Karimi, Nadia" in page) is expected
    assert "Berg, Olga" not in page


def test_list_is_paginated(front_desk_client):
    PatientFactory.create_batch(30)
    page1 = front_desk_client.get("/patients/").text
    assert "Page 1 of 2" in page1
    assert page1.count('href="/patients/') - page1.count('href="/patients/new') == 25 + 1  # rows + nav link


@pytest.mark.parametrize(("matches", "capped", "pages"), [
    (29, False, "Page 1 of 2"),  # just inside the cap
    (30, False, "Page 1 of 2"),  # at the cap
    (31, True, "Page 1 of 2"),  # just past it: the first 30 in pages, and a request to narrow the search
])
def test_a_broad_search_counts_no_further_than_the_cap(front_desk_client, settings, matches, capped, pages):
    settings.PATIENT_LIST_MAX = 30
    PatientFactory.create_batch(matches, last_name="Abbott")
    page1 = front_desk_client.get("/patients/", {"q": "abb"}).text
    assert pages in page1
    assert ('id="patient-list-capped"' in page1) is capped
    if capped:
        assert "More than 30 patients match “abb”" in page1
    last = front_desk_client.get("/patients/", {"q": "abb", "page": "9"}).text  # past the end: the last page
    rows = min(matches, 30) - 25  # rows 26 to the last listed, never past the cap
    assert last.count('href="/patients/') - last.count('href="/patients/new') == rows + 1  # + the nav link


def test_counting_a_broad_search_reads_no_more_than_the_cap(front_desk_client, settings):
    from django.test.utils import CaptureQueriesContext
    from django.db import connection

    settings.PATIENT_LIST_MAX = 30
    PatientFactory.create_batch(31, last_name="Abbott")
    with CaptureQueriesContext(connection) as ctx:
        front_desk_client.get("/patients/", {"q": "abb"})
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 31" in sql and "ORDER BY" not in sql.upper() for sql in counts)


def test_page_links_keep_the_search_and_the_archived_filter(front_desk_client):
    PatientFactory.create_batch(30, last_name="Abbott")
    page1 = front_desk_client.get("/patients/", {"q": "abb", "archived": "1"}).text
    assert 'href="?q=abb&amp;archived=1&amp;page=2"' in page1


def test_archive_hides_patient_keeps_record_and_never_deletes(clinician_client):
    patient = PatientFactory(last_name="Archivable")
    response = clinician_client.post(f"/patients/{patient.pk}/archive/", follow=True)
    assert "archived. Their records are kept." in response.text
    patient.refresh_from_db()
    assert patient.archived_at is not None
    assert "Archivable" not in clinician_client.get("/patients/").text
    assert "Archivable" in clinician_client.get("/patients/", {"archived": "1"}).text
    with pytest.raises(PermissionError):
        patient.delete()
    with pytest.raises(PermissionError):
        Patient.objects.all().delete()


def test_confirm_screening_is_dated_and_signed(clinician_client, clinician):
    patient = PatientFactory(screening_confirmed_at=None)
    clinician_client.post(f"/patients/{patient.pk}/confirm-screening/")
    patient.refresh_from_db()
    assert patient.screening_confirmed_by == clinician
    assert patient.screening_confirmed_at.date() == timezone.localdate()


def test_opening_a_patient_is_written_to_the_access_log(clinician_client, clinician):
    from clinic.models import AccessLog

    patient = PatientFactory()
    clinician_client.get(f"/patients/{patient.pk}/")
    entry = AccessLog.objects.get()
    assert entry.user == clinician and entry.patient == patient


def _count_queries(client, url):
    client.get(url)  # warm-up: the first request of a session does some one-off work
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_patient_list_queries_do_not_grow(front_desk_client, django_assert_max_num_queries):
    # Every patient matches the search, so both sizes list rows (an empty page skips a query).
    PatientFactory.create_batch(5, last_name="Abbott")
    small = _count_queries(front_desk_client, "/patients/?q=a")
    PatientFactory.create_batch(495, last_name="Abbott")
    with django_assert_max_num_queries(small):
        front_desk_client.get("/patients/?q=a")
    with django_assert_max_num_queries(small):
        front_desk_client.get("/patients/?page=3")


def test_patient_page_queries_do_not_grow(clinician_client, django_assert_max_num_queries):
    patients = PatientFactory.create_batch(5)
    small = _count_queries(clinician_client, f"/patients/{patients[0].pk}/")
    PatientFactory.create_batch(495)
    with django_assert_max_num_queries(small):
        clinician_client.get(f"/patients/{patients[0].pk}/")


def test_name_search_can_use_an_index_on_postgresql():
    """At 100,000 patients a sequential scan per keystroke would be slow: the search must be indexable."""
    if connection.vendor != "postgresql":
        pytest.skip("expression indexes exist on PostgreSQL only")
    from patients.selectors import patient_search

    queryset = patient_search("smi")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "patient_last_name_prefix" in plan and "patient_first_name_prefix" in plan


def _born_aged(years: int, *, extra_days: int = 0) -> dt.date:
    return TODAY.replace(year=TODAY.year - years) - dt.timedelta(days=extra_days)


@pytest.mark.parametrize(
    "patient_kwargs, asked",
    [
        ({"sex": "F", "date_of_birth": _born_aged(30)}, True),
        ({"sex": "M", "date_of_birth": _born_aged(30)}, False),
        ({"sex": "M", "date_of_birth": _born_aged(30), "is_pregnant": True}, True),  # recorded: always shown
        ({"sex": "X", "date_of_birth": _born_aged(30)}, True),  # not stated: asked, to be safe
        ({"sex": "F", "date_of_birth": _born_aged(55)}, True),  # at the last age asked (a setting)
        ({"sex": "F", "date_of_birth": _born_aged(56)}, False),  # just past it
    ],
    ids=["woman 30", "man", "man recorded pregnant", "not stated", "woman 55", "woman 56"],
)
def test_pregnancy_questions_are_asked_only_where_they_can_apply(clinician_client, patient_kwargs, asked):
    patient = PatientFactory(**patient_kwargs)
    form = clinician_client.get(f"/patients/{patient.pk}/edit/").context["form"]
    assert ("is_pregnant" in form.fields) is asked
    assert ("is_breastfeeding" in form.fields) is asked


def test_a_man_is_edited_without_pregnancy_questions(clinician_client):
    patient = PatientFactory(sex="M", date_of_birth=_born_aged(40), first_name="Omar")
    response = clinician_client.post(f"/patients/{patient.pk}/edit/", _valid_post(mrn=patient.mrn, sex="M",
                                                                                    first_name="Omar", is_pregnant="on"))
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.is_pregnant is False  # the question was not asked, so a posted answer is not taken
