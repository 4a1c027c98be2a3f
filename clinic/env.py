"""Strict parsing of environment variables: a typo in production should stop the server, not be ignored."""

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
