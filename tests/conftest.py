"""Shared fixtures: one user per role, logged-in clients, and the role ladder used by permission tests."""

import os

import pytest
from django.core.cache import cache
from django.test import Client

from tests.clock import pytest_addoption, pytest_configure, pytest_report_header, pytest_unconfigure  # noqa: F401

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.fixture(autouse=True)
def _fast_and_isolated(request, settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.AXES_ENABLED = False
    cache.clear()  # small shared values (sessions, role labels) never leak from one test into the next


def UserFactory(**kwargs):  # imported lazily so Django-free rule tests can run without settings
    from tests.factories import UserFactory as factory

    return factory(**kwargs)


@pytest.fixture
def clinician(db):
    return UserFactory(role="clinician", username="dr_adams", first_name="Ada", last_name="Adams")


@pytest.fixture
def front_desk(db):
    return UserFactory(role="front_desk", username="desk_brown", first_name="Ben", last_name="Brown")


@pytest.fixture
def manager(db):
    return UserFactory(role="manager", username="mgr_clark", first_name="Cleo", last_name="Clark")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def clinician_client(clinician):
    return _client_for(clinician)


@pytest.fixture
def front_desk_client(front_desk):
    return _client_for(front_desk)


@pytest.fixture
def manager_client(manager):
    return _client_for(manager)


@pytest.fixture
def role_clients(clinician, front_desk, manager):
    """{"anonymous": Client(), "clinician": ..., "front_desk": ..., "manager": ...} for ladder tests."""
    return {
        "anonymous": Client(),
        "clinician": _client_for(clinician),
        "front_desk": _client_for(front_desk),
        "manager": _client_for(manager),
    }
