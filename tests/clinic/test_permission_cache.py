"""A user's permissions are kept in the shared cache between requests, and dropped whenever they could be wrong:
a role taken away takes effect on the very next request."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache
from django.urls import reverse

from clinic import services
from clinic.backends import PERMS_KEY
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _fresh(user) -> User:
    """The user as the next request loads it (no per-object cache)."""
    return User.objects.get(pk=user.pk)


def test_the_second_request_reads_permissions_from_the_cache(clinician, django_assert_num_queries):
    assert _fresh(clinician).has_perm("plans.add_plan")
    assert cache.get(PERMS_KEY.format(pk=clinician.pk)) is not None
    user = _fresh(clinician)
    with django_assert_num_queries(0):
        assert user.has_perm("plans.add_plan")
        assert not user.has_perm("plans.export_fhir")


def test_a_role_changed_by_a_manager_applies_on_the_next_request(clinician, manager, clinician_client):
    patient = PatientFactory()
    new_plan = reverse("plans:new", args=[patient.pk])
    assert clinician_client.get(new_plan).status_code == 200  # permissions now cached
    services.staff_set_role(user=clinician, role="front_desk", by=manager)
    assert clinician_client.get(new_plan).status_code == 403
    services.staff_set_role(user=clinician, role="clinician", by=manager)
    assert clinician_client.get(new_plan).status_code == 200


def test_a_permission_taken_from_a_role_applies_to_every_member_on_the_next_request(clinician, clinician_client):
    patient = PatientFactory()
    new_plan = reverse("plans:new", args=[patient.pk])
    assert clinician_client.get(new_plan).status_code == 200
    add_plan = Permission.objects.get(codename="add_plan", content_type__app_label="plans")
    Group.objects.get(name="clinician").permissions.remove(add_plan)
    assert clinician_client.get(new_plan).status_code == 403
    Group.objects.get(name="clinician").permissions.add(add_plan)
    assert clinician_client.get(new_plan).status_code == 200


def test_removing_a_member_from_the_role_side_applies_on_the_next_request(clinician, clinician_client):
    patient = PatientFactory()
    new_plan = reverse("plans:new", args=[patient.pk])
    assert clinician_client.get(new_plan).status_code == 200
    Group.objects.get(name="clinician").user_set.remove(clinician)
    assert clinician_client.get(new_plan).status_code == 403


def test_a_disabled_account_is_refused_at_once(clinician, manager, clinician_client):
    assert clinician_client.get(reverse("patients:list")).status_code == 200
    services.staff_set_active(user=clinician, active=False, by=manager)
    response = clinician_client.get(reverse("patients:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_stale_entry_from_an_earlier_generation_is_not_used(clinician):
    assert _fresh(clinician).has_perm("plans.add_plan")
    key = PERMS_KEY.format(pk=clinician.pk)
    generation, _ = cache.get(key)
    cache.set(key, (generation + "-old", ["plans.export_fhir"]))  # written before the last change to the roles
    user = _fresh(clinician)
    assert not user.has_perm("plans.export_fhir")
    assert user.has_perm("plans.add_plan")


def test_without_a_shared_cache_permissions_are_read_afresh_on_every_request(clinician, settings, django_assert_num_queries):
    settings.PERMISSION_CACHE = False  # several worker processes, each with its own memory: nothing kept
    assert _fresh(clinician).has_perm("plans.add_plan")
    assert cache.get(PERMS_KEY.format(pk=clinician.pk)) is None
    user = _fresh(clinician)
    with django_assert_num_queries(1):
        assert user.has_perm("plans.add_plan")
