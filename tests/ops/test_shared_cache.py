"""Several app servers (README): with REDIS_URL, sessions and cache are shared, so a request can land on any
server. Two Django clients stand in for two servers' worth of requests against one Redis."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
REDIS = ("127.0.0.1", 6379)


def _redis_up() -> bool:
    try:
        socket.create_connection(REDIS, timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture
def shared_redis(settings):
    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {"default": {"BACKEND": "clinic.cache.ReusedClientRedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/15", "KEY_PREFIX": "clinic-test"}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    from django.core.cache import cache

    cache.clear()  # nothing kept from an earlier run of the suite
    yield
    cache.clear()


@pytest.mark.django_db
def test_session_made_on_one_server_is_honoured_by_another(shared_redis, clinician):
    first = Client()
    first.force_login(clinician)
    second = Client()  # another server: same cookie, nothing in its memory
    second.cookies = first.cookies
    assert second.get("/").status_code == 200
    first.post("/logout/")
    assert second.get("/")["Location"].startswith("/login/")  # signed out everywhere


@pytest.mark.django_db
def test_no_page_with_patient_data_is_kept_in_the_shared_cache(shared_redis, clinician, front_desk):
    """No whole page is kept: after every key page has been read (and a write made), a second server shows the
    write at once, and the only thing in Redis holding the patient's name or HTML is a fragment kept under the
    versions of the rows it shows (clinic/fragments.py: the patient page's, the plan page's and the calendar's content, on PostgreSQL),
    never a whole page (no <html>), and never one whose versions the write has left behind."""
    import datetime as dt

    import redis
    from django.utils import timezone

    from tests.factories import AppointmentFactory, PatientFactory, PlanFactory

    patient = PatientFactory(first_name="Liv", last_name="Lindqvist")
    plan = PlanFactory(patient=patient)
    start = timezone.make_aware(dt.datetime(2030, 1, 7, 10, 0))  # a fixed day: no wall clock in the test
    appointment = AppointmentFactory(patient=patient, plan=plan, start=start)
    first, second = Client(), Client()
    first.force_login(clinician)
    second.cookies = first.cookies
    desk = Client()
    desk.force_login(front_desk)
    for url in (patient.get_absolute_url(), "/patients/?q=lind", plan.get_absolute_url()):
        assert b"Lindqvist" in first.get(url).content
    day = f"/schedule/?date={timezone.localdate(appointment.start).isoformat()}"
    assert b"Lindqvist" in desk.get(day).content
    patient.last_name = "Lindqvist-Berg"
    patient.save()
    assert b"Lindqvist-Berg" in second.get(patient.get_absolute_url()).content
    assert b"Lindqvist-Berg" in desk.get(day).content

    store = redis.Redis(host=REDIS[0], port=REDIS[1], db=15)
    keys = store.keys("clinic-test*")
    assert keys  # the sessions are there
    from django.db import connection

    fragments = set()
    for key in keys:
        value = store.get(key) or b""
        assert b"<html" not in value.lower(), key
        if b":fragment:" in key:
            fragments.add(key)
        else:
            assert b"Lindqvist" not in value, key
    if connection.vendor != "postgresql":
        assert not fragments  # no versions on SQLite, so nothing kept
    else:
        # Read after the write: only the new versions' fragments hold the new name; the old ones simply lapse.
        new_name = [key for key in fragments if b"Lindqvist-Berg" in (store.get(key) or b"")]
        assert new_name and len(new_name) < len(fragments)


def test_redis_url_selects_shared_cache_and_sessions():
    code = ("from django.conf import settings as s; "
            "print(s.CACHES['default']['BACKEND'], s.SESSION_ENGINE)")
    result = subprocess.run(
        [sys.executable, "-c", f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinic.settings'; django.setup(); {code}"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/0"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "ReusedClientRedisCache django.contrib.sessions.backends.cached_db" in result.stdout


@pytest.mark.django_db
def test_a_role_changed_on_one_server_applies_on_another_at_once(shared_redis, clinician, manager):
    """Permissions are kept in Redis between requests; a manager's change drops them for every server."""
    from clinic import services
    from tests.factories import PatientFactory

    patient = PatientFactory()
    new_plan = f"/patients/{patient.pk}/plans/new/"
    first = Client()
    first.force_login(clinician)
    second = Client()
    second.cookies = first.cookies
    assert first.get(new_plan).status_code == 200
    store_keys = [k.decode() for k in redis_keys("clinic-test*perms:user:*")]
    assert store_keys, "the clinician's permissions are kept in Redis"
    services.staff_set_role(user=clinician, role="front_desk", by=manager)
    assert second.get(new_plan).status_code == 403


def redis_keys(pattern):
    import redis

    return redis.Redis(host=REDIS[0], port=REDIS[1], db=15).keys(pattern)


@pytest.mark.parametrize(("redis_url", "expected"), [("redis://127.0.0.1:6379/0", "True"), ("", "False")])
def test_permissions_are_cached_only_where_the_cache_is_shared(redis_url, expected):
    code = "from django.conf import settings as s; print(s.PERMISSION_CACHE)"
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1"} | ({"REDIS_URL": redis_url} if redis_url else {})
    result = subprocess.run(
        [sys.executable, "-c", f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinic.settings'; django.setup(); {code}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
