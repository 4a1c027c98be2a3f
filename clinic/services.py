"""Writes that belong to the clinic as a whole: roles, staff accounts, the access log."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.db.models import Q

from clinic.models import AccessLog, StaffChange
from clinic.roles import PERMISSION_MATRIX, ROLE_LABELS, ROLES

if TYPE_CHECKING:
    from patients.models import Patient


def roles_sync(*, using: str = "default") -> None:
    """Make each role group hold exactly the permissions of the matrix (those that exist yet)."""
    wanted = [perm.split(".", 1) for perm in PERMISSION_MATRIX]
    query = Q(pk__in=[])
    for app_label, codename in wanted:
        query |= Q(content_type__app_label=app_label, codename=codename)
    by_key = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.using(using).filter(query).select_related("content_type")
    }
    for role in ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        perms = [by_key[key] for key, roles in PERMISSION_MATRIX.items() if role in roles and key in by_key]
        group.permissions.set(perms)


def _role_of(user: User) -> str | None:
    return next((g.name for g in user.groups.all() if g.name in ROLES), None)


def _staff_change(*, member: User, by: User, action: str, detail: str = "") -> None:
    StaffChange.objects.create(member=member, by=by, action=action, detail=detail)


@transaction.atomic
def staff_create(*, username: str, first_name: str, last_name: str, email: str, role: str, password: str,
                 by: User) -> User:
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    _staff_change(member=user, by=by, action=StaffChange.Action.CREATED, detail=ROLE_LABELS.get(role, role))
    return user


@transaction.atomic
def staff_set_role(*, user: User, role: str, by: User) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    before = _role_of(user)
    if before != role:
        user.groups.set([Group.objects.get(name=role)])
        _staff_change(member=user, by=by, action=StaffChange.Action.ROLE_CHANGED,
                      detail=f"{ROLE_LABELS.get(before, before or 'none')} → {ROLE_LABELS.get(role, role)}")
    return user


@transaction.atomic
def staff_set_active(*, user: User, active: bool, by: User) -> User:
    # Disabled, never deleted: their name stays on every record they signed.
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        _staff_change(member=user, by=by,
                      action=StaffChange.Action.ENABLED if active else StaffChange.Action.DISABLED)
    return user


@transaction.atomic
def staff_update(*, user: User, role: str, active: bool, password: str = "", by: User) -> User:
    """The staff form's save: role, active flag and (if given) a new password, all or nothing."""
    user = staff_set_role(user=user, role=role, by=by)
    user = staff_set_active(user=user, active=active, by=by)
    if password:
        user = staff_set_password(user=user, password=password, by=by)
    return user


@transaction.atomic
def staff_set_password(*, user: User, password: str, by: User) -> User:
    """A manager sets someone's password (they forgot theirs). The log row says so, never what it is."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(password)
    user.save(update_fields=["password"])
    _staff_change(member=user, by=by, action=StaffChange.Action.PASSWORD_SET)
    return user


def access_log_record(*, user, patients: "Iterable[Patient | int]", path: str) -> None:
    """One access-log row per patient a request showed to `user` (a page, a file, an export, an email).

    Every view that shows a patient's identifiable or clinical data calls this, and nothing else writes the
    log. `patients` are Patient rows or their ids; a patient shown twice is logged once. Several patients (a report, an export, a lot's "where used") are one
    INSERT (bulk_create). No signals or history are attached to the table, so nothing else runs."""
    ids = list(dict.fromkeys(p if isinstance(p, int) else p.pk for p in patients))
    path = path[:AccessLog._meta.get_field("path").max_length]
    if len(ids) == 1:
        AccessLog.objects.create(user=user, patient_id=ids[0], path=path)
    elif ids:
        AccessLog.objects.bulk_create([AccessLog(user=user, patient_id=pid, path=path) for pid in ids])
