"""Foundation (issue 2): sign-in, lockout, idle timeout, health check, staff management, settings."""

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_every_page_needs_login_except_login_and_healthz(client):
    assert client.get("/").status_code == 302 and client.get("/")["Location"].startswith("/login/")
    assert client.get("/staff/")["Location"].startswith("/login/")
    assert client.get("/login/").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_sign_in_lands_on_dashboard_and_sign_out(client):
    UserFactory(username="desk", role="front_desk", password="demo-clinic")
    response = client.post("/login/", {"username": "desk", "password": "demo-clinic"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "Front desk" in response.text
    client.post("/logout/")
    assert client.get("/")["Location"].startswith("/login/")


def test_wrong_password_is_refused_with_a_message(client):
    UserFactory(username="desk", role="front_desk", password="demo-clinic")
    response = client.post("/login/", {"username": "desk", "password": "nope"})
    assert response.status_code == 200 and "Please enter a correct username and password" in response.text


def test_repeated_failures_lock_the_account(client, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="desk", role="front_desk", password="demo-clinic")
    for _ in range(3):
        client.post("/login/", {"username": "desk", "password": "wrong"})
    # Even the right password is refused while the account is locked, from any address.
    other = Client(REMOTE_ADDR="10.9.9.9")
    response = other.post("/login/", {"username": "desk", "password": "demo-clinic"})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    assert not other.session.get("_auth_user_id")


def test_activity_pushes_the_idle_expiry_forward_at_most_once_a_minute(clinician_client, settings):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60 == 30 * 60
    clinician_client.get("/")
    session = Session.objects.get()
    expiry = session.expire_date
    assert abs((expiry - timezone.now()).total_seconds() - 30 * 60) < 5
    clinician_client.get("/")  # within the minute: no write
    assert Session.objects.get().expire_date == expiry
    data = clinician_client.session
    data["_touched"] -= 61  # the last push was over a minute ago
    data.save()
    Session.objects.update(expire_date=timezone.now() + timezone.timedelta(minutes=2))  # nearly idle
    clinician_client.get("/")
    assert Session.objects.get().expire_date > timezone.now() + timezone.timedelta(minutes=29)


def test_expired_session_needs_login_again(clinician_client):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    assert clinician_client.get("/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    assert clinician_client.get("/")["Location"].startswith("/login/")


def test_password_change(client):
    UserFactory(username="doc", role="clinician", password="demo-clinic")
    client.login(username="doc", password="demo-clinic")
    response = client.post("/password/", {"old_password": "demo-clinic", "new_password1": "Sunscreen-Daily-50",
                                          "new_password2": "Sunscreen-Daily-50"})
    assert response.status_code == 302
    assert User.objects.get(username="doc").check_password("Sunscreen-Daily-50")


def test_healthz_reports_database_down(client):
    with mock.patch("clinic.views.connection") as conn:
        conn.cursor.side_effect = Exception("connection refused")
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


@pytest.mark.parametrize("role,status", [("clinician", 403), ("front_desk", 403), ("manager", 200)])
@pytest.mark.parametrize("url", ["/staff/", "/staff/new/", "/access-log/"])
def test_staff_pages_ladder(role_clients, role, status, url):
    assert role_clients[role].get(url).status_code == status
    assert role_clients["anonymous"].get(url)["Location"].startswith("/login/")


def test_manager_adds_and_disables_staff(manager_client, manager):
    response = manager_client.post("/staff/new/", {
        "username": "newdoc", "first_name": "Nia", "last_name": "Obi", "email": "nia@clinic.example",
        "role": "clinician", "password": "Melasma-Course-2026",
    })
    assert response.status_code == 302
    newdoc = User.objects.get(username="newdoc")
    assert newdoc.has_perm("plans.record_session") and not newdoc.has_perm("clinic.manage_staff")
    manager_client.post(f"/staff/{newdoc.pk}/", {"role": "clinician", "is_active": ""})
    newdoc.refresh_from_db()
    assert not newdoc.is_active
    assert not Client().login(username="newdoc", password="Melasma-Course-2026")


def test_staff_form_rejects_weak_password_and_saves_nothing(manager_client):
    response = manager_client.post("/staff/new/", {"username": "x1", "first_name": "A", "last_name": "B",
                                                   "role": "clinician", "password": "123"})
    assert "This password is too short" in response.text
    assert not User.objects.filter(username="x1").exists()


def test_manager_cannot_disable_themself(manager_client, manager):
    response = manager_client.post(f"/staff/{manager.pk}/", {"role": "manager", "is_active": ""})
    assert "You cannot disable your own account." in response.text
    manager.refresh_from_db()
    assert manager.is_active


@pytest.mark.parametrize("role", ["clinician", "front_desk", "manager"])
def test_dashboard_for_each_role(role_clients, role):
    response = role_clients[role].get("/")
    assert response.status_code == 200
    assert ("Manage" in response.text) is (role == "manager")


def _run_python(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.django_db(False)
def test_refuses_to_start_without_secret_key_when_debug_off():
    result = _run_python("import clinic.settings", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


@pytest.mark.django_db(False)
def test_build_commands_need_no_secret_but_serving_does():
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "DEBUG": "0"}
    check = subprocess.run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "No changes detected" in check.stdout, check.stderr
    serve = subprocess.run([sys.executable, "-c", "import clinic.wsgi"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert serve.returncode != 0 and "SECRET_KEY is required" in serve.stderr


@pytest.mark.django_db(False)
def test_strict_boolean_parsing():
    result = _run_python("import clinic.settings", DEBUG="maybe")
    assert result.returncode != 0 and "DEBUG must be one of" in result.stderr


@pytest.mark.django_db(False)
def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
             "DEBUG": "0", "SECRET_KEY": "x" * 20 + "production-grade-secret-key-with-enough-entropy-9f8e7d6c",
             "ALLOWED_HOSTS": "clinic.example.com"},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_security_headers_and_csp_without_inline_scripts(clinician_client):
    response = clinician_client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_manager_sets_a_new_password_for_someone_who_forgot(manager_client):
    desk = UserFactory(username="forgetful", role="front_desk", password="demo-clinic")
    weak = manager_client.post(f"/staff/{desk.pk}/", {"role": "front_desk", "is_active": "on", "new_password": "abc"})
    assert "This password is too short" in weak.text
    assert Client().login(username="forgetful", password="demo-clinic")  # unchanged after the refusal
    manager_client.post(f"/staff/{desk.pk}/", {"role": "front_desk", "is_active": "on",
                                               "new_password": "Tinted-Iron-Oxide-50"})
    assert Client().login(username="forgetful", password="Tinted-Iron-Oxide-50")


def test_permissions_come_from_the_role_and_the_user_in_one_query(django_assert_num_queries):
    from django.contrib.auth.models import Permission

    from clinic.roles import permissions_for

    desk = UserFactory(username="desk_perm", role="front_desk")
    desk.user_permissions.add(Permission.objects.get(codename="view_accesslog", content_type__app_label="clinic"))  # granted to this user alone
    desk = User.objects.get(pk=desk.pk)
    with django_assert_num_queries(1):
        perms = desk.get_all_permissions()
        assert desk.has_perm("plans.add_appointment") and not desk.has_perm("plans.record_session")
    assert perms == set(permissions_for("front_desk")) | {"clinic.view_accesslog"}
    User.objects.filter(pk=desk.pk).update(is_active=False)
    assert not User.objects.get(pk=desk.pk).has_perm("plans.add_appointment")
