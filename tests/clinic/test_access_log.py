"""The access log: the one service that writes it, and the manager's page and CSV export that read it
(filters by patient, staff member and date range; boundaries at, just inside and just outside)."""

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from clinic.models import AccessLog
from clinic.services import access_log_record
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
LOG = "/access-log/"
EXPORT = "/access-log/export.csv"


def _london(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


def _log_at(when: dt.datetime, *, user, patient, path="/patients/x/"):
    with time_machine.travel(when, tick=False):
        access_log_record(user=user, patients=[patient], path=path)
    return AccessLog.objects.order_by("-pk").first()


# --------------------------------------------------------------------------- the service


def test_one_patient_is_one_row_with_user_patient_path_and_time(clinician):
    patient = PatientFactory()
    when = _london(2026, 11, 30, 23, 50)
    row = _log_at(when, user=clinician, patient=patient, path="/plans/7/")
    assert (row.user, row.patient, row.path, row.at) == (clinician, patient, "/plans/7/", when)


def test_several_patients_are_one_insert_and_a_patient_shown_twice_is_one_row(clinician, django_assert_num_queries):
    patients = [PatientFactory() for _ in range(4)]
    with django_assert_num_queries(1):
        access_log_record(user=clinician, patients=[*patients, patients[0].pk], path="/adverse-events/report/")
    assert sorted(AccessLog.objects.values_list("patient_id", flat=True)) == sorted(p.pk for p in patients)


def test_nothing_shown_writes_nothing(clinician, django_assert_num_queries):
    with django_assert_num_queries(0):
        access_log_record(user=clinician, patients=[], path="/adverse-events/")


def test_a_long_path_is_cut_to_the_column(clinician):
    access_log_record(user=clinician, patients=[PatientFactory()], path="/x" * 400)
    assert len(AccessLog.objects.get().path) == 300


def test_the_log_cannot_be_deleted_through_the_app(clinician):
    access_log_record(user=clinician, patients=[PatientFactory()], path="/p/")
    with pytest.raises(PermissionError):
        AccessLog.objects.get().delete()
    with pytest.raises(PermissionError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.count() == 1


# --------------------------------------------------------------------------- who may read it


@pytest.mark.parametrize("url", [LOG, EXPORT, "/staff/changes/"])
def test_audit_pages_ladder(role_clients, url):
    assert role_clients["anonymous"].get(url)["Location"].startswith("/login/")
    assert role_clients["clinician"].get(url).status_code == 403
    assert role_clients["front_desk"].get(url).status_code == 403
    assert role_clients["manager"].get(url).status_code == 200


def test_the_patient_page_links_managers_to_who_opened_it(role_clients):
    patient = PatientFactory(mrn="MRN-4242")
    link = f'{LOG}?patient=MRN-4242'
    assert link in role_clients["manager"].get(f"/patients/{patient.pk}/").text
    for role in ("clinician", "front_desk"):
        assert link not in role_clients[role].get(f"/patients/{patient.pk}/").text
    # the link lands on that patient's rows, newest first: the three looks just now
    page = role_clients["manager"].get(link)
    assert page.status_code == 200
    assert [e.user.username for e in page.context["page"]] == ["desk_brown", "dr_adams", "mgr_clark"]
    assert {e.patient for e in page.context["page"]} == {patient}


# --------------------------------------------------------------------------- filters


@pytest.fixture
def staff():
    return UserFactory(role="clinician", username="dr_baker"), UserFactory(role="front_desk", username="desk_cole")


def _shown(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [e.pk for e in response.context["page"]]


def test_filter_by_patient_and_by_staff_member(manager_client, staff):
    baker, cole = staff
    ann, bea = PatientFactory(mrn="MRN-A1"), PatientFactory(mrn="MRN-B2")
    t = _london(2026, 11, 10, 9)
    r1 = _log_at(t, user=baker, patient=ann)
    r2 = _log_at(t + dt.timedelta(minutes=1), user=cole, patient=ann)
    r3 = _log_at(t + dt.timedelta(minutes=2), user=baker, patient=bea)
    assert _shown(manager_client.get(LOG, {"patient": "MRN-A1"})) == [r2.pk, r1.pk]
    assert _shown(manager_client.get(LOG, {"patient": "  MRN-B2 "})) == [r3.pk]
    assert _shown(manager_client.get(LOG, {"user": baker.pk})) == [r3.pk, r1.pk]
    assert _shown(manager_client.get(LOG, {"user": baker.pk, "patient": "MRN-A1"})) == [r1.pk]
    assert _shown(manager_client.get(LOG)) == [r3.pk, r2.pk, r1.pk]


@pytest.fixture
def november(staff):
    """Rows around 10–14 November 2026 (GMT), named by where they fall."""
    baker, _ = staff
    patient = PatientFactory()
    return {
        name: _log_at(when, user=baker, patient=patient).pk
        for name, when in {
            "day_before_last_second": _london(2026, 11, 9, 23, 59, 59),
            "first_day_midnight": _london(2026, 11, 10, 0, 0, 0),
            "inside": _london(2026, 11, 12, 12, 0),
            "last_day_last_second": _london(2026, 11, 14, 23, 59, 59),
            "day_after_midnight": _london(2026, 11, 15, 0, 0, 0),
        }.items()
    }


@pytest.mark.parametrize(("query", "expected"), [
    ({"date_from": "2026-11-10", "date_to": "2026-11-14"}, ["last_day_last_second", "inside", "first_day_midnight"]),
    ({"date_from": "2026-11-10"}, ["day_after_midnight", "last_day_last_second", "inside", "first_day_midnight"]),
    ({"date_to": "2026-11-14"}, ["last_day_last_second", "inside", "first_day_midnight", "day_before_last_second"]),
    ({"date_from": "2026-11-15", "date_to": "2026-11-15"}, ["day_after_midnight"]),
    ({"date_from": "2026-11-09", "date_to": "2026-11-09"}, ["day_before_last_second"]),
    ({"date_from": "2026-11-11", "date_to": "2026-11-13"}, ["inside"]),
])
def test_date_range_includes_both_whole_days_and_nothing_else(manager_client, november, query, expected):
    assert _shown(manager_client.get(LOG, query)) == [november[name] for name in expected]


def test_date_range_on_the_day_the_clocks_go_forward(manager_client, staff):
    # 28 March 2027: 01:00 GMT becomes 02:00 BST, so the clinic's day is 23 hours long.
    baker, _ = staff
    patient = PatientFactory()
    before = _log_at(_london(2027, 3, 27, 23, 59, 59), user=baker, patient=patient)
    first = _log_at(_london(2027, 3, 28, 0, 0, 0), user=baker, patient=patient)
    last = _log_at(_london(2027, 3, 28, 23, 59, 59), user=baker, patient=patient)
    after = _log_at(_london(2027, 3, 29, 0, 0, 0), user=baker, patient=patient)
    assert _shown(manager_client.get(LOG, {"date_from": "2027-03-28", "date_to": "2027-03-28"})) == [last.pk, first.pk]
    assert before.pk and after.pk


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"date_from": "2026-02-30"}, "date_from", "Enter a date as YYYY-MM-DD."),
    ({"date_to": "9999-12-31"}, "date_to", "Enter a date between 1 Jan 1900 and 31 Dec 2199."),
    ({"date_from": "0001-01-01"}, "date_from", "Enter a date between 1 Jan 1900 and 31 Dec 2199."),
    ({"date_from": "2026-11-14", "date_to": "2026-11-10"}, "date_to", "The end date is before the start date."),
    ({"patient": "NO-SUCH-MRN"}, "patient", "No patient has that record number."),
    ({"user": "not-a-number"}, "user", "Choose a staff member from the list."),
    ({"user": "99999999"}, "user", "Choose a staff member from the list."),
    ({"date_from": "x" * 5000}, "date_from", "Enter a date as YYYY-MM-DD."),
])
@pytest.mark.parametrize("url", [LOG, EXPORT])
def test_bad_filters_answer_with_a_message_never_a_500(manager_client, url, query, field, message):
    response = manager_client.get(url, query)
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert message in response.text
    assert response.context["page"] is None  # no rows the manager did not ask for


def test_page_links_keep_the_filters(manager_client, staff):
    baker, _ = staff
    patient = PatientFactory(mrn="MRN-P")
    for minute in range(51):
        _log_at(_london(2026, 11, 10, 9, minute), user=baker, patient=patient)
    page = manager_client.get(LOG, {"patient": "MRN-P", "date_from": "2026-11-10"})
    assert "?patient=MRN-P&amp;date_from=2026-11-10&amp;page=2" in page.text
    second = manager_client.get(LOG, {"patient": "MRN-P", "date_from": "2026-11-10", "page": 2})
    assert len(_shown(second)) == 1


@pytest.mark.parametrize("rows", [3, 120])
def test_log_page_query_count_does_not_grow(manager_client, staff, django_assert_max_num_queries, rows):
    baker, cole = staff
    patients = [PatientFactory() for _ in range(3)]
    for n in range(rows):
        _log_at(_london(2026, 11, 10, 9) + dt.timedelta(minutes=n), user=(baker, cole)[n % 2], patient=patients[n % 3])
    with django_assert_max_num_queries(11):
        assert manager_client.get(LOG, {"user": baker.pk, "date_from": "2026-11-01"}).status_code == 200
    with django_assert_max_num_queries(6):
        response = manager_client.get(EXPORT, {"date_from": "2026-11-01"})
        body = b"".join(response.streaming_content)
    assert body.count(b"\n") == rows + 1


# --------------------------------------------------------------------------- CSV export


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "private, no-store"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_export_holds_the_filtered_rows_in_clinic_time(manager_client, november):
    rows = _csv(manager_client.get(EXPORT, {"date_from": "2026-11-10", "date_to": "2026-11-14"}))
    assert rows[0] == ["when (clinic time)", "staff username", "staff name", "patient MRN", "page"]
    assert [r[0] for r in rows[1:]] == ["2026-11-14 23:59:59", "2026-11-12 12:00:00", "2026-11-10 00:00:00"]
    assert {r[1] for r in rows[1:]} == {"dr_baker"}


def test_export_cells_cannot_start_a_spreadsheet_formula(manager_client, staff):
    baker, _ = staff
    baker.first_name, baker.last_name = "=HYPERLINK(1)", "X"
    baker.save()
    _log_at(_london(2026, 11, 10, 9), user=baker, patient=PatientFactory(mrn="-1+1"))
    [row] = _csv(manager_client.get(EXPORT))[1:]
    assert row[2].startswith("'=") and row[3] == "'-1+1"


def test_the_log_page_links_to_the_export_of_the_same_filters(manager_client, staff):
    baker, _ = staff
    page = manager_client.get(LOG, {"user": baker.pk, "date_from": "2026-11-10"})
    assert f'href="{reverse("access_log_export")}?user={baker.pk}&amp;date_from=2026-11-10"' in page.text
