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
def test_a_write_through_one_server_makes_the_page_kept_for_another_stale(shared_redis, clinician):
    from tests.factories import PatientFactory

    patient = PatientFactory(last_name="Lindqvist")
    first, second = Client(), Client()
    first.force_login(clinician)
    second.cookies = first.cookies
    assert b"Lindqvist" in first.get(patient.get_absolute_url()).content  # kept in Redis
    patient.last_name = "Lindqvist-Berg"
    patient.save()  # as if saved by the other server: the version in Redis moves on
    assert b"Lindqvist-Berg" in second.get(patient.get_absolute_url()).content


def test_redis_url_selects_shared_cache_and_sessions():
    code = ("from django.conf import settings as s; "
            "print(s.CACHES['default']['BACKEND'], s.SESSION_ENGINE, 'page-cache' if s.PAGE_CACHE else '')")
    result = subprocess.run(
        [sys.executable, "-c", f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinic.settings'; django.setup(); {code}"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/0"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "ReusedClientRedisCache django.contrib.sessions.backends.cached_db page-cache" in result.stdout
