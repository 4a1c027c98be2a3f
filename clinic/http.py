"""Small HTTP helpers shared by the apps."""

from django.core.exceptions import PermissionDenied
from django.utils.http import url_has_allowed_host_and_scheme


def require_perm(request, perm: str) -> None:
    """403 unless the signed-in user's role holds the permission."""
    if not request.user.has_perm(perm):
        raise PermissionDenied


def safe_next(request, default: str) -> str:
    """Where to go after an action: the `next` the page sent if it is a path on this site, else `default`.

    Only absolute paths are taken ("/schedule/?date=…"): anything else could leave the site, or be mistaken by
    redirect() for a view name."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def csv_cell(value) -> str:
    """A value for a CSV cell a spreadsheet will open: one starting with = + - @ is kept as text (formula
    injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
