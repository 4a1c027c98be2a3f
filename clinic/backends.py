"""Authentication backends."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.contrib.auth.models import Permission
from django.db.models import Q


class RolePermissionBackend(ModelBackend):
    """Django's ModelBackend, reading a user's permissions (their own and their role's) in one query instead
    of two. Every signed-in page checks permissions, so this is paid on every request."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = permissions.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list("content_type__app_label", "codename")
            }
        return user_obj._perm_cache

    def get_user(self, user_id):
        """The signed-in user and their permissions, read from the shared cache when the page cache is on.

        Kept under the data version (clinic/pagecache.py), which any save of a user, a group membership or a
        group's permissions moves on: a disabled account, a changed password or a new role takes effect on the
        very next request, as when they are read from the database every time."""
        if not settings.PAGE_CACHE:
            return super().get_user(user_id)
        from clinic.pagecache import data_version

        version = data_version()
        key = f"auth:user:{user_id}:{version}"
        user = cache.get(key)
        if user is None:
            user = super().get_user(user_id)  # None for an unknown or inactive account: never kept
            if user is None:
                return None
            self.get_all_permissions(user)  # loaded now, so they travel with the user
            cache.set(key, user, timeout=settings.PAGE_CACHE_SECONDS)
        user.data_version = version  # the page cache keys this request's page with it: one read per request
        return user
