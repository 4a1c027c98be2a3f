from django.conf import settings

from clinic.roles import ROLE_LABELS


def clinic(request):
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "user_role": lambda: _role_label(request),  # lazy: pages that never show it pay no query
    }


def _role_label(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    names = {g.name for g in user.groups.all()}
    return ", ".join(label for role, label in ROLE_LABELS.items() if role in names)
