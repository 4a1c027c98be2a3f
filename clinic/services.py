"""Writes that belong to the clinic as a whole: roles, staff accounts, the access log."""

import functools

from django.contrib.auth.models import Group, Permission, User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from clinic.models import AccessLog
from clinic.roles import PERMISSION_MATRIX, ROLES


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


@transaction.atomic
def staff_create(*, username: str, first_name: str, last_name: str, email: str, role: str, password: str) -> User:
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    return user


@transaction.atomic
def staff_set_role(*, user: User, role: str) -> User:
    user.groups.set([Group.objects.get(name=role)])
    return user


@transaction.atomic
def staff_set_active(*, user: User, active: bool) -> User:
    # Disabled, never deleted: their name stays on every record they signed.
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def staff_update(*, user: User, role: str, active: bool, password: str = "") -> User:
    """The staff form's save: role, active flag and (if given) a new password, all or nothing."""
    staff_set_role(user=user, role=role)
    staff_set_active(user=user, active=active)
    if password:
        staff_set_password(user=user, password=password)
    return user


@functools.cache
def _access_log_insert() -> str:
    meta, quote = AccessLog._meta, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in ("user", "patient", "path", "at"))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s)"


def access_log_record(*, user, patient_id: int, path: str) -> None:
    """One row per opening of a patient record. Every patient page view writes it, so it is a single INSERT
    without the model machinery (no signals or history are attached to this table)."""
    with connection.cursor() as cursor:
        cursor.execute(_access_log_insert(), [user.pk, patient_id, path[:300], timezone.now()])


@transaction.atomic
def staff_set_password(*, user: User, password: str) -> User:
    user.set_password(password)
    user.save(update_fields=["password"])
    return user
