from django.conf import settings

from clinic.roles import ROLE_LABELS

ROLE_SESSION_KEY = "_role_label"


def clinic(request):
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "user_role": lambda: role_label(request),  # lazy: pages that never show it pay nothing
        "nav_user_name": lambda: nav_user_name(request),
    }


def role_label(request) -> str:
    """The signed-in user's role, as the navigation bar shows it. Kept in the session after the first page,
    so later pages do not query the user's groups again: a role changed by a manager shows in the badge from
    the next sign-in, while permissions themselves are always checked afresh."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    session = getattr(request, "session", None)
    if session is not None and ROLE_SESSION_KEY in session:
        return session[ROLE_SESSION_KEY]
    label = label_for(user)
    if session is not None:
        session[ROLE_SESSION_KEY] = label
    return label


def label_for(user) -> str:
    names = {g.name for g in user.groups.all()}
    return ", ".join(label for role, label in ROLE_LABELS.items() if role in names)


def nav_user_name(request) -> str:
    user = request.user
    return user.get_full_name() or user.username

