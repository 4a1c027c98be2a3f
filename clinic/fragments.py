"""Rendered fragments kept under the version of the rows they show (issue 13).

No page is cached. A view may keep the expensive middle of a page -- what its selectors read and its templates
lay out -- under a key made of:

- the versions of every patient whose rows it shows and of the shared rows (clinic/datachanges.py: written by
  database triggers on every write, from any path, and read *before* the fragment's data);
- what else it depends on: the viewer's permissions (never the viewer), the clinic's date, the view's own
  arguments;
- the code and the settings: a change to any template or module, or to a setting, gives new keys
  (``CODE_VERSION``, ``settings_version``).

A form in a fragment gets the viewer's own CSRF token: the fragment is rendered with a random marker in its
place, new on every render and never shown to anyone, and the marker is replaced on the way out. Patient text
cannot forge the marker, because it is drawn after the text was saved.

Off on SQLite (no triggers) and with ``FRAGMENT_CACHE=0``: then fragments are rendered every time.
"""

import hashlib
import secrets
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from clinic import datachanges

_ROOT = Path(settings.BASE_DIR)


def _code_version() -> str:
    digest = hashlib.sha256()
    for folder in ("clinic", "patients", "plans", "templates"):
        for path in sorted((_ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".html") and "migrations" not in path.parts:
                # Contents, not times: app servers deployed from the same commit share their kept fragments.
                digest.update(str(path.relative_to(_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


CODE_VERSION = _code_version()


_PLAIN = (str, int, float, bool, type(None), tuple, list, dict, frozenset, set)
_settings_seen: dict[int, tuple[object, str]] = {}


def _plain_repr(value) -> str:
    """repr, with sets sorted: the same in every worker process (str hashing is randomised per process)."""
    return repr(sorted(value, key=repr)) if isinstance(value, (set, frozenset)) else repr(value)


def settings_version() -> str:
    """The settings a fragment may depend on ([U] rule thresholds, time zone, ...): every plain-valued setting,
    hashed once per settings object (a restart with new environment values, or a test's override, gives new
    keys)."""
    holder = settings._wrapped
    seen = _settings_seen.get(id(holder))
    if seen is None or seen[0] is not holder:
        if len(_settings_seen) > 64:  # a test run overrides settings thousands of times
            _settings_seen.clear()
        plain = sorted((name, _plain_repr(getattr(settings, name))) for name in dir(settings)
                       if name.isupper() and isinstance(getattr(settings, name), _PLAIN))
        seen = _settings_seen[id(holder)] = (holder, hashlib.sha256(repr(plain).encode()).hexdigest()[:12])
    return seen[1]


def enabled() -> bool:
    return settings.FRAGMENT_CACHE and datachanges.tracked()


def permission_signature(user) -> str:
    """What a fragment may depend on of the viewer: their permissions (cached per user, clinic/backends.py)."""
    perms = ",".join(sorted(user.get_all_permissions())) if user.is_active else ""
    return hashlib.sha256(perms.encode()).hexdigest()[:16]


def fragment_key(name: str, versions: tuple, *parts) -> str:
    raw = repr((CODE_VERSION, settings_version(), name, versions, timezone.localdate().isoformat(), parts))
    return f"fragment:{name.replace(' ', '-')}:{hashlib.sha256(raw.encode()).hexdigest()}"


def cached(request, name: str, versions, parts: tuple, render, *, keep: bool = True) -> dict:
    """The fragment ``render(csrf_token) -> {part name: html}``, from the cache when its key still holds.

    ``versions`` is a callable returning the versions (datachanges.versions...): it is called first, before the
    fragment reads anything. ``keep=False``: render afresh and keep nothing (a request the view will not key).
    Returns the parts as safe strings with this viewer's CSRF token."""
    if not (keep and enabled()):
        return {part: mark_safe(html) for part, html in render(get_token(request)).items()}
    key = fragment_key(name, versions(), *parts)
    kept = cache.get(key)
    if kept is None:
        marker = f"csrf-{secrets.token_hex(16)}"
        kept = {"marker": marker, "parts": render(marker)}
        cache.set(key, kept, settings.FRAGMENT_CACHE_SECONDS)
    marker, token = kept["marker"], get_token(request)
    return {part: mark_safe(html.replace(marker, token)) for part, html in kept["parts"].items()}


def for_patient(request, name: str, patient_id: int, template: str, read, *parts) -> dict:
    """The content of a page of one patient's rows (and the shared rows beside them): ``read() -> (title,
    context)`` is called only when nothing is kept, after the patient's versions were read; ``template`` lays
    the context out. ``parts``: what else the content depends on (the plan shown, ...). {"title", "body"}."""

    def render(csrf_token):
        title, context = read()
        return {
            "title": conditional_escape(title),
            "body": render_to_string(template, context | {"csrf_token": csrf_token}, request),
        }

    return cached(
        request, name, lambda: datachanges.versions([patient_id]),
        (*parts, patient_id, permission_signature(request.user)), render,
    )
