"""Rendered pages kept in the shared cache and thrown away by any write (generational caching).

The busiest pages (patient search, patient page, plan page, day calendar, aftercare print) are read far more
often than the data under them changes: the desk refreshes the calendar all day, a clinician reopens the same
plan between steps. Such a page is kept as rendered, per set of permissions, under a key that holds a *data
version*. Every save or delete of a patients/plans/auth row moves the version on (signals wired in
clinic/apps.py), so the next request renders afresh; nothing is served from before a write that has committed.

Why this is safe:
- The version is bumped when the row is written *and again when the transaction commits*. A page rendered
  between the two (it could read the old rows) is stored under a version nobody asks for afterwards.
- Keys hold the user's permissions (what the page shows and offers depends on them and on nothing else
  about the user), the full path with its query string, the htmx flag, the language, today's date (pages show
  "due", "overdue", "older than 30 days") and a release id (code, templates and page-affecting settings).
- Nothing personal is stored: the CSRF token and the signed-in user's name and role in the navigation bar are
  rendered as placeholders that each request fills in with its own. Pages carrying a one-time message,
  answers other than 200 and non-GET requests are not stored.
- After a write, the first request for a page renders it while the others asking for the same page wait for
  it (up to PAGE_CACHE_WAIT_SECONDS) instead of all rendering it at once.
- Services never write with QuerySet.update() or bulk_create(), which send no signals; code that does calls
  bump() itself (the demo loader; the benchmark empties its own Redis database before seeding). `manage.py
  migrate` bumps too.
- Only on when the cache is shared by every app server process (PAGE_CACHE, on by default with REDIS_URL):
  a per-process cache would let one gunicorn worker miss another's bump.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import get_language

VERSION_KEY = "clinic:data-version"
CSRF_PLACEHOLDER = "__clinic_csrf_token_placeholder__"
USER_NAME_PLACEHOLDER = "__clinic_user_name_placeholder__"
USER_ROLE_PLACEHOLDER = "__clinic_user_role_placeholder__"
WATCHED_APPS = {"patients", "plans", "auth"}


# --------------------------------------------------------------------------- the data version


def data_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        # A fresh start (or an evicted key) begins from the clock, never from a number used before.
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def bump() -> None:
    """Every stored page is stale from now on."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet, or it was evicted
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def _watched(sender) -> bool:
    meta = getattr(sender, "_meta", None)
    # simple_history's Historical* copies live in the same apps and are written beside the rows they copy.
    return meta is not None and meta.app_label in WATCHED_APPS and not meta.model_name.startswith("historical")


def on_write(sender, **kwargs):
    """post_save / post_delete / m2m_changed receiver (connected in clinic/apps.py)."""
    if not _watched(sender) or not settings.PAGE_CACHE:
        return
    bump()
    transaction.on_commit(bump, using=kwargs.get("using") or "default")


def on_migrate(sender, **kwargs):
    if settings.PAGE_CACHE:
        bump()


# --------------------------------------------------------------------------- pages


def _permission_signature(user) -> str:
    # Pages differ between users only by what their permissions let them see and do, and by the name and role
    # in the navigation bar (filled in per request, like the CSRF token). Users with the same permissions
    # share a kept page: after a write the page is rendered once per role, not once per person.
    return hashlib.sha256("\n".join(sorted(user.get_all_permissions())).encode()).hexdigest()[:16]


def _key(request) -> str:
    # The version read when this request's user was loaded (clinic.backends), else read now: either way one
    # snapshot for the whole request, as if it had arrived at that moment.
    version = getattr(request.user, "data_version", None) or data_version()
    parts = (
        settings.PAGE_CACHE_RELEASE,
        str(version),
        timezone.localdate().isoformat(),
        _permission_signature(request.user),
        request.get_full_path(),
        "htmx" if getattr(request, "htmx", False) else "",
        get_language() or "",
    )
    return "page:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _has_messages(request) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


def _personal(request, html: str) -> str:
    """The kept page with this request's own values in place of the placeholders."""
    from clinic.context_processors import nav_user_name, role_label

    return (
        html.replace(CSRF_PLACEHOLDER, get_token(request))
        .replace(USER_NAME_PLACEHOLDER, escape(nav_user_name(request)))
        .replace(USER_ROLE_PLACEHOLDER, escape(role_label(request)))
    )


def _wait_for(key: str, lock: str) -> str | None:
    """Another request is rendering this page: wait for it rather than render it again at the same time
    (after a write, every user's next request misses at once). Gives up when the renderer is done without
    keeping a page, or after PAGE_CACHE_WAIT_SECONDS."""
    deadline = time.monotonic() + settings.PAGE_CACHE_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.005)
        found = cache.get_many([key, lock])
        if key in found:
            return found[key]
        if lock not in found:
            return cache.get(key)
    return None


def render_cached(request, template_name: str, context, *, status=200):
    """Like django.shortcuts.render, for a read-only page. `context` is a function, called only on a miss;
    `status` a number or a function of the context."""

    def _render():
        values = context()
        return render(request, template_name, values, status=status(values) if callable(status) else status)

    if not settings.PAGE_CACHE or request.method != "GET" or _has_messages(request):
        return _render()
    key = _key(request)
    html = cache.get(key)
    if html is None:
        lock = key + ":rendering"
        if not cache.add(lock, 1, timeout=30):
            html = _wait_for(key, lock)
    if html is not None:
        return HttpResponse(_personal(request, html), content_type="text/html; charset=utf-8")
    request.keeping_page = True  # clinic.context_processors.page_placeholders: per-request values held back
    try:
        response = _render()
        html = response.content.decode()
        if response.status_code == 200 and not _has_messages(request):
            cache.set(key, html, timeout=settings.PAGE_CACHE_SECONDS)
    finally:
        request.keeping_page = False
        cache.delete(key + ":rendering")
    response.content = _personal(request, html)
    return response
