import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic import selectors, services
from clinic.forms import AccessLogFilterForm, StaffChangeFilterForm, StaffCreateForm, StaffEditForm
from clinic.http import csv_cell, require_perm
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
        user = services.staff_create(**form.cleaned_data, by=request.user)
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
            services.staff_update(
                user=member, role=form.cleaned_data["role"], active=form.cleaned_data["is_active"],
                password=form.cleaned_data["new_password"], by=request.user,
            )
            messages.success(request, f"Saved {member.username}.")
            return redirect("staff_list")
    return render(request, "clinic/staff_form.html", {"form": form, "title": f"Edit {member.username}", "member": member})


def staff_changes(request):
    """Changes to staff accounts, newest first: who changed whose account, how, and when."""
    require_perm(request, "clinic.manage_staff")
    form = StaffChangeFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    member = form.cleaned_data.get("member") if form.is_bound and valid else None
    page = Paginator(selectors.staff_changes(member=member), 50).get_page(request.GET.get("page")) if valid else None
    return render(request, "clinic/staff_changes.html", {"form": form, "page": page, "page_query": _page_query(request)},
                  status=200 if valid else 400)


# --------------------------------------------------------------------------- access log


def _page_query(request) -> str:
    """The filters of this address, for the page links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _access_log_filter(request):
    """The filter form and the rows it selects (None when the filters are not valid: the page then shows the
    form's messages and no rows, rather than rows the manager did not ask for)."""
    form = AccessLogFilterForm(request.GET or None)
    if not form.is_bound:
        return form, selectors.access_log_entries()
    if not form.is_valid():
        return form, None
    return form, selectors.access_log_entries(**form.filters())


def _access_log_page(request, form, entries):
    page = Paginator(entries, 50).get_page(request.GET.get("page")) if entries is not None else None
    export_query = _page_query(request)
    return render(
        request, "clinic/access_log.html",
        {"form": form, "page": page, "page_query": export_query, "export_query": export_query},
        status=200 if entries is not None else 400,
    )


def access_log(request):
    require_perm(request, "clinic.view_accesslog")
    form, entries = _access_log_filter(request)
    return _access_log_page(request, form, entries)


ACCESS_LOG_CSV_COLUMNS = ["when (clinic time)", "staff username", "staff name", "patient MRN", "page"]


def access_log_export(request):
    """The filtered log as CSV, streamed (a year of a busy clinic's log is large), in one query."""
    require_perm(request, "clinic.view_accesslog")
    form, entries = _access_log_filter(request)
    if entries is None:
        return _access_log_page(request, form, entries)

    def rows():
        yield ACCESS_LOG_CSV_COLUMNS
        for entry in entries.iterator(chunk_size=2000):
            yield [
                timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"), entry.user.username,
                entry.user.get_full_name(), entry.patient.mrn, entry.path,
            ]

    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow([csv_cell(v) for v in row]) for row in rows()),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="access-log-{timezone.localdate():%Y%m%d}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer into a streaming response."""

    def write(self, value):
        return value
