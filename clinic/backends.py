"""Authentication backends."""

import secrets

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

PERMS_KEY = "perms:user:{pk}"
GENERATION_KEY = "perms:generation"  # a random token: replaced when a role's or a permission's rows change
PERMS_TTL = 300  # seconds; a safety net only: every change to a user's roles or a role's permissions drops it


class RolePermissionBackend(ModelBackend):
    """Django's ModelBackend, reading a user's permissions (their own and their role's) in one query instead of
    two, and, where the cache is shared by every worker (settings.PERMISSION_CACHE: on with REDIS_URL), keeping
    the set there between requests: every signed-in page checks permissions, so the query was paid on every
    request.

    The cached set is dropped whenever it could be wrong (signals below): a user saved, a user's roles or own
    permissions changed, a role's permissions changed, a role or permission deleted. The user row itself is
    still read on every request, so a deactivated account is refused at once."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            shared = settings.PERMISSION_CACHE
            user_obj._perm_cache = _cached_permissions(user_obj) if shared else _load_permissions(user_obj)
        return user_obj._perm_cache


def _load_permissions(user) -> set[str]:
    permissions = Permission.objects.all()
    if not user.is_superuser:
        permissions = permissions.filter(Q(user=user) | Q(group__user=user))
    return {f"{app_label}.{codename}" for app_label, codename in permissions.values_list("content_type__app_label", "codename")}


def _cached_permissions(user) -> set[str]:
    key = PERMS_KEY.format(pk=user.pk)
    found = cache.get_many([GENERATION_KEY, key])  # one round trip
    generation = found.get(GENERATION_KEY)
    entry = found.get(key)
    if generation is not None and entry is not None and entry[0] == generation:
        return set(entry[1])
    permissions = _load_permissions(user)
    if generation is None:
        generation = secrets.token_hex(8)
        if not cache.add(GENERATION_KEY, generation, timeout=None):
            return permissions  # another process just set it: cache next time
    cache.set(key, (generation, sorted(permissions)), timeout=PERMS_TTL)
    return permissions


def forget_user_permissions(*user_pks) -> None:
    """Drop the cached permissions of these users, now and again once the transaction commits (so a request
    that read the old rows meanwhile cannot leave a stale set behind)."""
    keys = [PERMS_KEY.format(pk=pk) for pk in user_pks if pk is not None]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


def forget_all_permissions() -> None:
    def renew():
        cache.set(GENERATION_KEY, secrets.token_hex(8), timeout=None)

    renew()
    transaction.on_commit(renew)


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def _user_changed(sender, instance, **kwargs):
    forget_user_permissions(instance.pk)


@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
def _user_links_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    if isinstance(instance, User):
        forget_user_permissions(instance.pk)
    else:  # group.user_set / permission.user_set changed: the users are in pk_set, or all of them on clear
        forget_all_permissions() if pk_set is None else forget_user_permissions(*pk_set)


@receiver(m2m_changed, sender=Group.permissions.through)
def _role_permissions_changed(sender, action, **kwargs):
    if action.startswith("post_"):
        forget_all_permissions()


@receiver(post_save, sender=Group)
@receiver(post_delete, sender=Group)
@receiver(post_save, sender=Permission)
@receiver(post_delete, sender=Permission)
def _roles_changed(sender, **kwargs):
    forget_all_permissions()
