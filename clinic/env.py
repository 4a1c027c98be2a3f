"""Strict parsing of environment variables: a typo in production should stop the server, not be ignored."""

import hashlib
import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of {sorted(_TRUE | _FALSE)}, got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_dates(name: str) -> frozenset:
    """Comma-separated ISO dates (2026-12-25,2026-12-28); a malformed one stops the server."""
    import datetime as dt

    days = set()
    for item in env_list(name):
        try:
            days.add(dt.date.fromisoformat(item))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} must be comma-separated dates like 2026-12-25, got {item!r}") from exc
    return frozenset(days)


# Settings that change what a page shows (rule thresholds, clinic details, time zone): a restart with other
# values must not serve pages kept under the old ones.
PAGE_AFFECTING_ENV_PREFIXES = ("RULE_", "CLINIC_", "TIME_ZONE", "REMINDER_", "PHOTO_")


def release_id(base_dir) -> str:
    """A hash of the code, templates and page-affecting settings, so a deploy or a changed setting never
    serves pages rendered before it."""
    digest = hashlib.sha256()
    for name in sorted(os.environ):
        if name.startswith(PAGE_AFFECTING_ENV_PREFIXES):
            digest.update(f"{name}={os.environ[name]}\n".encode())
    for folder in ("clinic", "patients", "plans", "templates", "locale"):
        root = base_dir / folder
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".html", ".mo", ".txt") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(base_dir)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
