"""Aftercare: the print view, PDF and email of a session's sheet, and the managers' versioned texts."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinic.http import require_perm, safe_next
from clinic.services import access_log_record
from plans import rules
from plans.forms.aftercare import AftercareTextForm
from plans.selectors.aftercare import (
    aftercare_session_get,
    aftercare_sheet_for,
    aftercare_text_versions,
    aftercare_texts_current,
)
from plans.services.aftercare import (
    AftercareError,
    aftercare_pdf_filename,
    aftercare_sheet_email,
    aftercare_sheet_issue,
    aftercare_sheet_pdf,
    aftercare_text_publish,
)

ALL_MODALITIES = "all"  # URL spelling of a text for every modality (stored as "")
MODALITY_LABELS = dict(rules.MODALITY_CHOICES)


def _session_for_print(request, session_id):
    require_perm(request, "plans.print_aftercare")
    return aftercare_session_get(session_id=session_id)


def _sheet_or_error(request, session):
    """The stored sheet, issuing it on first use; or the reason it cannot be given."""
    sheet = aftercare_sheet_for(session)
    if sheet is not None:
        return sheet, None
    try:
        return aftercare_sheet_issue(session=session, by=request.user), None
    except AftercareError as error:
        return None, str(error)


def aftercare(request, session_id):
    session = _session_for_print(request, session_id)
    sheet, error = _sheet_or_error(request, session)
    context = {
        "session": session,
        "sheet": sheet,
        "content": sheet.content if sheet else None,
        "error": error,
        "can_email": session.plan.patient.may_email,
        "autoprint": request.GET.get("print") == "1" and sheet is not None,
    }
    # 409 when the sheet cannot be given yet.
    response = render(request, "plans/aftercare/print.html", context, status=409 if error else 200)
    access_log_record(user=request.user, patients=[session.plan.patient_id], path=request.path)
    return response


def aftercare_pdf(request, session_id):
    session = _session_for_print(request, session_id)
    sheet, error = _sheet_or_error(request, session)
    access_log_record(user=request.user, patients=[session.plan.patient_id], path=request.path)
    if error:
        return render(request, "plans/aftercare/print.html", {"session": session, "error": error}, status=409)
    response = HttpResponse(aftercare_sheet_pdf(sheet=sheet), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{aftercare_pdf_filename(sheet)}"'
    return response


@require_POST
def aftercare_email(request, session_id):
    session = _session_for_print(request, session_id)
    sheet, error = _sheet_or_error(request, session)
    # The sheet (the session's clinical details) leaves the clinic by email: logged like a print.
    access_log_record(user=request.user, patients=[session.plan.patient_id], path=request.path)
    if sheet is not None:
        try:
            aftercare_sheet_email(sheet=sheet, by=request.user)
        except AftercareError as email_error:
            error = str(email_error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The aftercare sheet was emailed to the patient."))
    return redirect(safe_next(request, reverse("plans:aftercare", args=[session.pk])))


# --- managers: versioned texts ---------------------------------------------------------------------------


def _require_text_editor(request):
    if not request.user.has_perm("plans.add_aftercaretext"):
        raise PermissionDenied


def aftercare_texts(request):
    _require_text_editor(request)
    order = {key: n for n, key in enumerate(rules.AFTERCARE_SECTIONS)}
    texts = sorted(aftercare_texts_current(), key=lambda t: (order.get(t.section, 99), t.modality))
    rows = [
        {
            "text": text,
            "modality_label": MODALITY_LABELS.get(text.modality, _("Every modality")),
            "modality_slug": text.modality or ALL_MODALITIES,
        }
        for text in texts
    ]
    return render(request, "plans/aftercare/text_list.html", {"rows": rows})


def aftercare_text_edit(request, section, modality):
    _require_text_editor(request)
    stored_modality = "" if modality == ALL_MODALITIES else modality
    if section not in rules.AFTERCARE_SECTIONS or (stored_modality and stored_modality not in rules.MODALITIES):
        raise Http404
    versions = aftercare_text_versions(section=section, modality=stored_modality)
    latest = versions[0] if versions else None
    if request.method == "POST":
        form = AftercareTextForm(request.POST)
        if form.is_valid():
            try:
                text = aftercare_text_publish(
                    section=section, modality=stored_modality, title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"], by=request.user, base_version=form.cleaned_data["base_version"],
                )
            except AftercareError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Saved as version %(version)s.") % {"version": text.version})
                return redirect("plans:aftercare_texts")
    else:
        initial = {"base_version": latest.version if latest else 0}
        if latest:
            initial.update(title=latest.title, body=latest.body)
        form = AftercareTextForm(initial=initial)
    context = {
        "form": form,
        "section": section,
        "modality_label": MODALITY_LABELS.get(stored_modality, _("Every modality")),
        "versions": versions,
        "latest": latest,
    }
    return render(request, "plans/aftercare/text_edit.html", context)


urlpatterns = [
    path("sessions/<int:session_id>/aftercare/", aftercare, name="aftercare"),
    path("sessions/<int:session_id>/aftercare.pdf", aftercare_pdf, name="aftercare_pdf"),
    path("sessions/<int:session_id>/aftercare/email/", aftercare_email, name="aftercare_email"),
    path("aftercare-texts/", aftercare_texts, name="aftercare_texts"),
    path("aftercare-texts/<str:section>/<str:modality>/", aftercare_text_edit, name="aftercare_text_edit"),
]
