from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic import selectors, services
from clinic.forms import StaffCreateForm, StaffEditForm
from clinic.models import AccessLog
from clinic.roles import ROLE_LABELS, ROLES


@login_not_required
@never_cache
@require_GET
def healthz(request):
    # Load balancers take an instance out of rotation on 503.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_not_required
@never_cache
@require_GET
def livez(request):
    # Liveness only (the process answers); touches nothing. Also the benchmark's ceiling.
    return HttpResponse("ok", content_type="text/plain")


def dashboard(request):
    return render(request, "clinic/dashboard.html", selectors.dashboard_context(request.user))


@permission_required("clinic.manage_staff", raise_exception=True)
def staff_list(request):
    staff = list(User.objects.prefetch_related("groups").order_by("-is_active", "last_name", "username"))
    for member in staff:  # role names as staff know them, not the group codes
        member.role_names = [ROLE_LABELS.get(g.name, g.name) for g in member.groups.all()]
    return render(request, "clinic/staff_list.html", {"staff": staff})


@permission_required("clinic.manage_staff", raise_exception=True)
def staff_new(request):
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.staff_create(**form.cleaned_data)
        messages.success(request, f"{user.get_full_name()} can now sign in as {user.username}.")
        return redirect("staff_list")
    return render(request, "clinic/staff_form.html", {"form": form, "title": "Add staff member"})


@permission_required("clinic.manage_staff", raise_exception=True)
def staff_edit(request, user_id):
    member = get_object_or_404(User.objects.prefetch_related("groups"), pk=user_id)
    current_role = next((g.name for g in member.groups.all() if g.name in ROLES), None)
    form = StaffEditForm(request.POST or None, user=member, initial={"role": current_role, "is_active": member.is_active})
    if request.method == "POST" and form.is_valid():
        if member == request.user and not form.cleaned_data["is_active"]:
            form.add_error("is_active", "You cannot disable your own account.")
        else:
            services.staff_set_role(user=member, role=form.cleaned_data["role"])
            services.staff_set_active(user=member, active=form.cleaned_data["is_active"])
            if form.cleaned_data["new_password"]:
                services.staff_set_password(user=member, password=form.cleaned_data["new_password"])
            messages.success(request, f"Saved {member.username}.")
            return redirect("staff_list")
    return render(request, "clinic/staff_form.html", {"form": form, "title": f"Edit {member.username}", "member": member})


@permission_required("clinic.view_accesslog", raise_exception=True)
def access_log(request):
    entries = AccessLog.objects.select_related("user", "patient").order_by("-at")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "clinic/access_log.html", {"page": page})
