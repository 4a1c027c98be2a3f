"""Rendered pages kept in the shared cache and thrown away by any write (generational caching).

The busiest pages (patient search, patient page, plan page, day calendar, aftercare print) are read far more
often than the data under them changes: the desk refreshes the calendar all day, a clinician reopens the same
plan between steps. Such a page is kept as rendered, per user, under a key that holds a *data version*. Every
save or delete of a patients/plans/auth row moves the version on (signals wired in clinic/apps.py), so the next
request renders afresh; nothing is ever served from before a write that has committed.

Why this is safe:
- The version is bumped when the row is written *and again when the transaction commits*. A page rendered
  between the two (it could read the old rows) is stored under a version nobody asks for afterwards.
- Keys hold the user (the navigation shows their name and the page shows what their role may do), the full
  path with its query string, the htmx flag, the language, today's date (pages show "due", "overdue", "older
  than 30 days") and a release id (a deploy with new templates never serves old HTML).
- The CSRF token is never stored: pages are rendered with a placeholder that each request replaces with its
  own token. Pages carrying a one-time message, answers other than 200 and non-GET requests are not stored.
- Services never write with QuerySet.update() or bulk_create(), which send no signals; code that does (demo
  loader, benchmark seeding) calls bump() itself. `manage.py migrate` bumps too.
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
from django.utils.translation import get_language

VERSION_KEY = "clinic:data-version"
CSRF_PLACEHOLDER = "__clinic_csrf_token_placeholder__"
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


def _key(request) -> str:
    # The version read when this request's user was loaded (clinic.backends), else read now: either way one
    # snapshot for the whole request, as if it had arrived at that moment.
    version = getattr(request.user, "data_version", None) or data_version()
    parts = (
        settings.PAGE_CACHE_RELEASE,
        str(version),
        timezone.localdate().isoformat(),
        str(request.user.pk),
        request.get_full_path(),
        "htmx" if getattr(request, "htmx", False) else "",
        get_language() or "",
    )
    return "page:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _has_messages(request) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


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
        request.csrf_placeholder = True  # read by clinic.context_processors.csrf_placeholder
        try:
            response = _render()
        finally:
            request.csrf_placeholder = False
        html = response.content.decode()
        if response.status_code == 200 and not _has_messages(request):
            cache.set(key, html, timeout=settings.PAGE_CACHE_SECONDS)
        response.content = html.replace(CSRF_PLACEHOLDER, get_token(request))
        return response
    return HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)), content_type="text/html; charset=utf-8")
