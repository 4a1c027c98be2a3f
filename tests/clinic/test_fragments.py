"""Issue 13: the plan page and the day calendar keep their rendered middle under the version of the rows they show.

The versions are written by PostgreSQL triggers (clinic/datachanges.py), so these tests change rows with raw SQL,
past every service and signal, and expect the next page to show the change. On SQLite nothing is kept."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from zoneinfo import ZoneInfo

from clinic import datachanges, fragments
from tests.factories import (
    AdverseEventFactory, AppointmentFactory, AssessmentFactory, ConsentFactory, PlanAdjunctFactory, UserFactory,
)
from tests.plans.scheduling_support import active_plan

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2029, 12, 20, 10, 0, tzinfo=LONDON)
DAY = dt.date(2030, 1, 7)
on_postgres = pytest.mark.skipif("connection.vendor != 'postgresql'")

# Read by the page outside its kept fragment: the session and viewer, the log it writes, the versions themselves,
# the phone-call list (read on every view of the calendar).
OUTSIDE_FRAGMENTS = {
    "django_session", "clinic_accesslog", "clinic_datachange", "plans_reminderlog",
    # the viewer's permissions: the key holds their signature (fragments.permission_signature)
    "auth_permission", "auth_group", "auth_group_permissions", "auth_user_groups", "auth_user_user_permissions",
    "django_content_type",
}
_TABLE = re.compile(r'(?:FROM|JOIN)\s+"(\w+)"')


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def plan(db, frozen):
    plan = active_plan(start=DAY.isoformat())
    AppointmentFactory(patient=plan.patient, plan=plan, session=plan.sessions.get(number=1),
                       start=dt.datetime(2030, 1, 7, 10, 0, tzinfo=LONDON), end=dt.datetime(2030, 1, 7, 11, 0, tzinfo=LONDON))
    PlanAdjunctFactory(plan=plan)
    ConsentFactory(plan=plan)
    AssessmentFactory(patient=plan.patient, plan=plan)
    AdverseEventFactory(patient=plan.patient, plan=plan)
    return plan


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _version(patient_id):
    return dict((pid, (count, newest)) for pid, count, newest in datachanges.versions([patient_id]))[patient_id]


FIXTURE_TABLES = {  # where the plan fixture gives its patient rows
    "patients_patient", "plans_plan", "plans_appointment", "plans_assessment", "plans_adverseevent",
    "plans_treatmentsession", "plans_consent", "plans_planadjunct",
}


@on_postgres
@pytest.mark.parametrize("table", sorted(datachanges.PATIENT_TABLES))
def test_a_raw_sql_write_to_any_patient_table_moves_that_patients_version_and_no_other(plan, table):
    other = active_plan(start=DAY.isoformat())
    AppointmentFactory(patient=other.patient, plan=other)
    rows_with_patient = "SELECT c.id, " + datachanges.PATIENT_TABLES[table].replace("FROM changed c", f"FROM {table} c")[7:]
    with connection.cursor() as cursor:
        cursor.execute(rows_with_patient)
        ids = [row_id for row_id, patient_id in cursor.fetchall() if patient_id == plan.patient_id]
    assert bool(ids) == (table in FIXTURE_TABLES)
    before, other_before = _version(plan.patient_id), _version(other.patient_id)
    _sql(f"UPDATE {table} SET id = id WHERE id = ANY(%s)", [ids])  # a write no service or signal sees
    after = _version(plan.patient_id)
    if ids:
        assert after[0] == before[0] + 1 and after[1] > before[1]
        _sql(f"DELETE FROM {table} WHERE false")  # a statement touching no row moves nothing
        assert _version(plan.patient_id) == after
    else:
        assert after == before
    assert _version(other.patient_id) == other_before  # only the patient whose rows changed


@on_postgres
def test_shared_rows_move_the_shared_version_but_a_sign_in_does_not(db):
    user = UserFactory(role="clinician", first_name="Ann")
    shared = lambda: datachanges.versions([])[0]  # noqa: E731  (None, count, newest)
    before = shared()
    _sql("UPDATE auth_user SET last_login = now() WHERE id = %s", [user.pk])
    assert shared() == before
    _sql("UPDATE auth_user SET first_name = 'Anne' WHERE id = %s", [user.pk])
    assert shared()[1] == before[1] + 1


def _content(response):
    return response.content.decode()


def _rendered_afresh(client, url) -> bool:
    """Whether the page read its rows (both pages read the plans' adjuncts) rather than its kept content."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return any('FROM "plans_planadjunct"' in q["sql"] for q in queries.captured_queries)


@on_postgres
def test_the_plan_page_is_kept_and_shows_a_raw_sql_change_on_the_next_request(plan, clinician_client, django_assert_max_num_queries):
    url = plan.get_absolute_url()
    first = _content(clinician_client.get(url))
    assert plan.patient.last_name in first
    with django_assert_max_num_queries(5):  # kept: the viewer, the plan's patient, the versions, the log
        kept = _content(clinician_client.get(url))
    token = re.compile(r"\b[A-Za-z0-9]{64}\b")  # each response carries a fresh masking of the CSRF token
    assert token.sub("", kept) == token.sub("", first)
    for statement, shown in [
        ("UPDATE patients_patient SET last_name = 'Quennell' WHERE id = %s", "Quennell"),
        ("UPDATE plans_planadjunct SET strength = '3.5%%' WHERE plan_id IN (SELECT id FROM plans_plan WHERE patient_id = %s)", "3.5%"),
        ("UPDATE plans_room SET name = 'Garden Room' WHERE %s > 0", "Garden Room"),
        ("UPDATE plans_treatmentsession SET status = 'completed', performed_at = now() "
         "WHERE number = 1 AND plan_id IN (SELECT id FROM plans_plan WHERE patient_id = %s)", "completed"),
    ]:
        _sql(statement, [plan.patient_id])
        assert shown in _content(clinician_client.get(url)), statement


@on_postgres
def test_the_patient_page_is_kept_and_shows_a_raw_sql_change_on_the_next_request(plan, clinician_client, django_assert_max_num_queries):
    url = plan.patient.get_absolute_url()
    clinician_client.get(url)
    with django_assert_max_num_queries(4):  # kept: the viewer, the versions, the log
        assert plan.patient.last_name in _content(clinician_client.get(url))
    _sql("UPDATE plans_adverseevent SET grade = 3 WHERE patient_id = %s", [plan.patient_id])
    assert "grade 3" in _content(clinician_client.get(url))
    _sql("UPDATE patients_patient SET archived_at = now() WHERE id = %s", [plan.patient_id])
    assert '<span class="badge text-bg-secondary">archived</span>' in _content(clinician_client.get(url))


@on_postgres
def test_a_kept_plan_page_carries_each_viewers_own_csrf_token_and_never_the_marker(plan, clinician):
    other = UserFactory(role="clinician")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(clinician)
    second.force_login(other)
    url = plan.get_absolute_url()
    first.get(url)
    page = _content(second.get(url))
    assert "csrf-" not in page
    token = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', page).group(1)
    response = second.post(reverse("plans:complete", args=[plan.pk]), {"csrfmiddlewaretoken": token})
    assert response.status_code != 403  # the kept page's form works for the second viewer


@on_postgres
def test_a_kept_plan_page_never_shows_one_role_what_only_another_may_see(plan, clinician_client, front_desk_client):
    assert "Screening findings" in _content(clinician_client.get(plan.get_absolute_url()))
    assert "Screening findings" not in _content(front_desk_client.get(plan.get_absolute_url()))


@on_postgres
def test_the_next_day_the_plan_page_is_rendered_afresh(plan, clinician, clinician_client, time_machine):
    url = plan.get_absolute_url()
    clinician_client.get(url)
    time_machine.move_to(NOW + dt.timedelta(days=1), tick=False)
    clinician_client.force_login(clinician)  # yesterday's sign-in has timed out
    assert _rendered_afresh(clinician_client, url)  # not the kept fragment of yesterday
    assert not _rendered_afresh(clinician_client, url)


@on_postgres
def test_the_day_calendar_is_kept_and_shows_a_raw_sql_change_on_the_next_request(plan, front_desk_client):
    url = reverse("plans:schedule_day") + f"?date={DAY.isoformat()}"
    assert plan.patient.last_name in _content(front_desk_client.get(url))
    _sql("UPDATE patients_patient SET last_name = 'Quennell' WHERE id = %s", [plan.patient_id])
    assert "Quennell" in _content(front_desk_client.get(url))
    moved = AppointmentFactory(start=dt.datetime(2030, 1, 8, 9, 0, tzinfo=LONDON), end=dt.datetime(2030, 1, 8, 10, 0, tzinfo=LONDON))
    _sql("UPDATE plans_appointment SET start = start - interval '1 day', \"end\" = \"end\" - interval '1 day' WHERE id = %s", [moved.pk])
    assert moved.patient.last_name in _content(front_desk_client.get(url))  # moved into the day: a new patient there


@on_postgres
def test_a_kept_fragment_lapses_after_its_time_whatever_happens(plan, clinician_client, settings, time_machine):
    """Patient data does not linger in the cache: FRAGMENT_CACHE_SECONDS bounds it even when nothing changed."""
    settings.FRAGMENT_CACHE_SECONDS = 600
    url = plan.get_absolute_url()
    clinician_client.get(url)
    for seconds, fresh in [(599, False), (601, True)]:  # just inside, just past
        time_machine.move_to(NOW + dt.timedelta(seconds=seconds), tick=False)
        assert _rendered_afresh(clinician_client, url) == fresh, seconds


@on_postgres
def test_a_made_up_query_string_is_rendered_but_not_kept(plan, front_desk_client):
    url = reverse("plans:schedule_day") + f"?date={DAY.isoformat()}"
    assert _rendered_afresh(front_desk_client, url + "&x=1")
    assert _rendered_afresh(front_desk_client, url + "&x=1")  # nothing kept for it
    assert _rendered_afresh(front_desk_client, url)
    assert not _rendered_afresh(front_desk_client, url)  # the plain address is kept


@pytest.mark.parametrize("page", ["patient page", "plan page", "day calendar"])
def test_every_table_a_kept_fragment_reads_has_its_versions_kept_by_the_database(plan, page, clinician_client):
    """The structural half: a new read on these pages from a table without triggers fails here."""
    cache.clear()
    url = {
        "patient page": plan.patient.get_absolute_url(), "plan page": plan.get_absolute_url(),
        "day calendar": reverse("plans:schedule_day") + f"?date={DAY.isoformat()}",
    }[page]
    with CaptureQueriesContext(connection) as queries:
        assert clinician_client.get(url).status_code == 200
    tables = {table for query in queries.captured_queries for table in _TABLE.findall(query["sql"])}
    assert "plans_plan" in tables
    assert tables - OUTSIDE_FRAGMENTS <= datachanges.COVERED_TABLES, tables - OUTSIDE_FRAGMENTS - datachanges.COVERED_TABLES


def test_nothing_is_kept_on_sqlite_or_when_switched_off(settings):
    settings.FRAGMENT_CACHE = False
    assert not fragments.enabled()
    settings.FRAGMENT_CACHE = True
    assert fragments.enabled() == (connection.vendor == "postgresql")
