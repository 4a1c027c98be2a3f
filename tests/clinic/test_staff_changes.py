"""Changes to staff accounts are recorded with who made them and when, and managers read them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import StaffChange
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
WHEN = dt.datetime(2026, 11, 30, 23, 50, tzinfo=ZoneInfo("Europe/London"))
PASSWORD = "a-long-enough-passphrase-42"


@pytest.fixture
def signed_in_manager(manager):
    client = Client()
    client.force_login(manager)
    return client


def _changes():
    return list(StaffChange.objects.order_by("id").values_list("member__username", "by__username", "action", "detail", "at"))


def _edit(member, **overrides):
    data = {"role": "clinician", "is_active": "on", "new_password": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_creating_an_account_is_recorded(manager):
    with time_machine.travel(WHEN, tick=False):
        client = Client()
        client.force_login(manager)
        response = client.post("/staff/new/", {"username": "nurse_dee", "first_name": "Dee", "last_name": "Day",
                                               "email": "", "role": "front_desk", "password": PASSWORD})
    assert response.status_code == 302
    assert _changes() == [("nurse_dee", "mgr_clark", "created", "Front desk", WHEN)]


@pytest.mark.parametrize(("start", "form", "expected"), [
    ({"role": "clinician", "active": True}, _edit(None, role="manager"), [("role_changed", "Clinician → Manager")]),
    ({"role": "clinician", "active": True}, _edit(None, is_active=None), [("disabled", "")]),
    ({"role": "clinician", "active": False}, _edit(None), [("enabled", "")]),
    ({"role": "clinician", "active": True}, _edit(None, new_password=PASSWORD), [("password_set", "")]),
    ({"role": "clinician", "active": True}, _edit(None, role="front_desk", is_active=None),
     [("role_changed", "Clinician → Front desk"), ("disabled", "")]),
    ({"role": "clinician", "active": True}, _edit(None), []),  # saved without a change: nothing to record
])
def test_each_change_to_an_account_is_one_row_with_who_and_when(manager, start, form, expected):
    member = UserFactory(username="dr_eve", role=start["role"], is_active=start["active"])
    with time_machine.travel(WHEN, tick=False):
        client = Client()
        client.force_login(manager)
        assert client.post(f"/staff/{member.pk}/", form).status_code == 302
    assert _changes() == [("dr_eve", "mgr_clark", action, detail, WHEN) for action, detail in expected]


def test_the_password_itself_is_never_recorded(signed_in_manager):
    member = UserFactory(username="dr_fay", role="clinician")
    signed_in_manager.post(f"/staff/{member.pk}/", _edit(member, new_password=PASSWORD))
    assert User.objects.get(pk=member.pk).check_password(PASSWORD)
    assert PASSWORD not in str(_changes())


def test_a_refused_change_records_nothing(manager, signed_in_manager):
    response = signed_in_manager.post(f"/staff/{manager.pk}/", _edit(manager, role="manager", is_active=None))
    assert response.status_code == 200 and "You cannot disable your own account." in response.text
    assert _changes() == []


def test_managers_read_the_changes_filtered_by_account(signed_in_manager):
    eve = UserFactory(username="dr_eve", role="clinician")
    gus = UserFactory(username="desk_gus", role="front_desk")
    signed_in_manager.post(f"/staff/{eve.pk}/", _edit(eve, role="manager"))
    signed_in_manager.post(f"/staff/{gus.pk}/", _edit(gus, role="front_desk", is_active=None))
    everything = signed_in_manager.get("/staff/changes/")
    assert [(c.member.username, c.action) for c in everything.context["page"]] == [("desk_gus", "disabled"), ("dr_eve", "role_changed")]
    assert "Role changed: Clinician → Manager" in everything.text
    only_eve = signed_in_manager.get("/staff/changes/", {"member": eve.pk})
    assert [c.member.username for c in only_eve.context["page"]] == ["dr_eve"]
    assert f'/staff/changes/?member={eve.pk}' in signed_in_manager.get(f"/staff/{eve.pk}/").text
    bad = signed_in_manager.get("/staff/changes/", {"member": "nope"})
    assert bad.status_code == 400 and "Choose a staff member from the list." in bad.text


def test_staff_changes_cannot_be_deleted_through_the_app(signed_in_manager):
    signed_in_manager.post("/staff/new/", {"username": "x_new", "first_name": "X", "last_name": "Y", "email": "",
                                           "role": "clinician", "password": PASSWORD})
    with pytest.raises(PermissionError):
        StaffChange.objects.get().delete()
    with pytest.raises(PermissionError):
        StaffChange.objects.all().delete()
