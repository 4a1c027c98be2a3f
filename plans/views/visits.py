"""Visits: the session page, pre-session check, recording and amending a session, assessments, photos,
adverse events, exosome products and lots. Thin views: access check → form → one service/selector call."""

import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.formkit import add_service_errors
from clinic.http import csv_cell, require_perm
from clinic.services import access_log_record
from clinic.roles import CLINICIAN
from plans.forms import visits as forms
from plans.models import AdverseEvent, Lot, Photo, Plan, PlanState, SessionStatus
from plans.selectors import panels_for
from plans.selectors import safety
from plans.selectors.scheduling import session_sequence
from plans.selectors import visits as selectors
from plans.selectors.course import pregnancy_questions_apply
from plans.services import visits as services

MSG_CHECK_PASSED = "Pre-session check passed. Record the session when it is done."
MSG_CHECK_FAILED = "Pre-session check failed: the session is blocked. Reasons are listed below."
MSG_RECORDED = "Session recorded."
MSG_AMENDED = "Amendment saved; the original values are kept."
MSG_COMPLETED_USE_AMEND = "This session is already recorded. Changes go through an amendment with a reason."
MSG_NOT_COMPLETED = "The session is not recorded yet."
MSG_LATER_OUTSIDE = (
    "Later bookings now outside their window after this session: {sessions}. The front desk sees them on the "
    "dashboard to move them."
)
MSG_SKIPPED = "Session {number} skipped; the reason is kept with the course."


def _session_for(request, session_id, perm="plans.view_treatmentsession"):
    require_perm(request, perm)
    return selectors.session_for_page(session_id)


def _plan_for(request, plan_id, perm):
    require_perm(request, perm)
    return get_object_or_404(Plan.objects.select_related("patient"), pk=plan_id)


def _clinicians():
    return User.objects.filter(is_active=True, groups__name=CLINICIAN).order_by("last_name", "username")


# --- session page -------------------------------------------------------------------------------------------


def session_detail(request, session_id):
    session = _session_for(request, session_id)
    context = {
        "session": session,
        "plan": session.plan,
        "patient": session.plan.patient,
        "can_record": request.user.has_perm("plans.record_session"),
        "sequence": session_sequence(session),
        **selectors.session_page_context(session, request.user),
        "session_panels": panels_for("session", session, request.user),
    }
    access_log_record(user=request.user, patients=[session.plan.patient_id], path=request.path)
    return render(request, "plans/visits/session_detail.html", context)


def session_check(request, session_id):
    session = _session_for(request, session_id, "plans.record_session")
    if session.status == SessionStatus.COMPLETED:
        messages.info(request, MSG_COMPLETED_USE_AMEND)
        return redirect(session)
    form = forms.PreSessionCheckForm(
        request.POST or None, hsv_history=session.plan.patient.hsv_history,
        pregnancy_applies=pregnancy_questions_apply(session.plan.patient),
    )
    if request.method == "POST" and form.is_valid():
        try:
            check = services.pre_session_check_record(session=session, answers=form.answers(), by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(session)
        if check.passed:
            messages.success(request, MSG_CHECK_PASSED)
            return redirect("plans:session_record", session.pk)
        messages.error(request, MSG_CHECK_FAILED)
        return redirect(session)
    access_log_record(user=request.user, patients=[session.plan.patient_id], path=request.path)
    return render(request, "plans/visits/session_check.html",
                  {"session": session, "form": form, "sequence": session_sequence(session)})


def _record_form(request, session, form_class, initial):
    modality = session.modality or session.plan.modality
    return form_class(
        request.POST or None, initial=initial, modality=modality, lots=selectors.lots_for_recording(),
        clinicians=_clinicians(),
    )


def session_record(request, session_id):
    session = _session_for(request, session_id, "plans.record_session")
    if session.status == SessionStatus.COMPLETED:
        messages.info(request, MSG_COMPLETED_USE_AMEND)
        return redirect("plans:session_amend", session.pk)
    if session.plan.state != PlanState.ACTIVE:
        messages.error(request, services.ERR_PLAN_NOT_ACTIVE)
        return redirect(session)
    sequence = session_sequence(session)
    if sequence["order_error"]:
        messages.error(request, sequence["order_error"])
        return redirect(session)
    if services.passing_check_today(session) is None:
        messages.warning(request, services.ERR_NEEDS_PASSING_CHECK)
        return redirect("plans:session_check", session.pk)
    plan = session.plan
    initial = {
        "performed_at": timezone.localtime().replace(second=0, microsecond=0),
        "performed_by": request.user.pk,
        "device_name": plan.device_name,
        "exosome_lot": getattr(selectors.latest_lot_for(plan.exosome_product_id, timezone.localdate()), "pk", None),
        **forms.device_initial(plan.modality, plan.device_settings, plan.patient.fitzpatrick_type),
    }
    form = _record_form(request, session, forms.SessionRecordForm, initial)
    if request.method == "POST" and form.is_valid():
        try:
            recorded = services.session_record(
                session=session, record=form.to_record(), confirm_warnings=form.cleaned_data["confirm_warnings"],
                out_of_window_reason=form.cleaned_data["out_of_window_reason"], by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, MSG_RECORDED)
            if recorded.later_outside:
                messages.warning(request, MSG_LATER_OUTSIDE.format(
                    sessions=", ".join(f"session {number}" for number in recorded.later_outside)))
            return redirect(session)
    access_log_record(user=request.user, patients=[session.plan.patient_id], path=request.path)
    return render(request, "plans/visits/session_record.html",
                  {"session": session, "form": form, "amend": False, "sequence": sequence})


def session_skip(request, session_id):
    """Skip a session still to come, with a reason; the next session may then be recorded."""
    session = _session_for(request, session_id, "plans.record_session")
    form = forms.SessionSkipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_skip(session=session, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, MSG_SKIPPED.format(number=session.number))
            return redirect(session)
    access_log_record(user=request.user, patients=[session.plan.patient_id], path=request.path)
    return render(request, "plans/visits/session_skip.html",
                  {"session": session, "form": form, "sequence": session_sequence(session)})


def session_amend(request, session_id):
    session = _session_for(request, session_id, "plans.record_session")
    if session.status != SessionStatus.COMPLETED:
        messages.info(request, MSG_NOT_COMPLETED)
        return redirect(session)
    form = _record_form(request, session, forms.SessionAmendForm, forms.session_amend_initial(session))
    if request.method == "POST" and form.is_valid():
        try:
            services.session_amend(
                session=session, record=form.to_record(), reason=form.cleaned_data["reason"],
                confirm_warnings=form.cleaned_data["confirm_warnings"], by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, MSG_AMENDED)
            return redirect(session)
    access_log_record(user=request.user, patients=[session.plan.patient_id], path=request.path)
    return render(request, "plans/visits/session_record.html", {"session": session, "form": form, "amend": True})


# --- assessments ----------------------------------------------------------------------------------------------


def _assessment(request, *, plan, session, kinds, default_kind, back):
    form = forms.AssessmentForm(
        request.POST or None, kinds=kinds, initial={"kind": default_kind, "taken_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assessment_record(
                plan=plan, session=session, kind=form.cleaned_data["kind"], taken_on=form.cleaned_data["taken_on"],
                components=form.components(), melasqol_items=form.cleaned_data["melasqol_items"],
                notes=form.cleaned_data["notes"], by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Assessment saved: MASI {assessment.masi}, mMASI {assessment.mmasi}.")
            return redirect(back)
    access_log_record(user=request.user, patients=[plan.patient_id], path=request.path)
    return render(
        request, "plans/visits/assessment_form.html",
        {"form": form, "plan": plan, "session": session, "patient": plan.patient, "back": back},
    )


def session_assessment_new(request, session_id):
    session = _session_for(request, session_id, "plans.add_assessment")
    return _assessment(
        request, plan=session.plan, session=session, kinds=None, default_kind="pre_session",
        back=session.get_absolute_url(),
    )


def plan_assessment_new(request, plan_id):
    plan = _plan_for(request, plan_id, "plans.add_assessment")
    return _assessment(
        request, plan=plan, session=None, kinds=("baseline", "follow_up"), default_kind="baseline",
        back=plan.get_absolute_url(),
    )


# --- photos ------------------------------------------------------------------------------------------------------


def _photo(request, *, patient, session, back):
    form = forms.PhotoForm(request.POST or None, request.FILES or None, initial={"taken_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.photo_upload(
                patient=patient, session=session, view=form.cleaned_data["view"],
                taken_on=form.cleaned_data["taken_on"], upload=form.cleaned_data["image"], by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Photo saved (location and camera data removed).")
            return redirect(back)
    access_log_record(user=request.user, patients=[patient], path=request.path)
    return render(
        request, "plans/visits/photo_form.html",
        {"form": form, "patient": patient, "session": session, "back": back,
         "max_mb": settings.PHOTO_MAX_BYTES // (1024 * 1024), "max_megapixels": settings.PHOTO_MAX_MEGAPIXELS},
    )


def session_photo_new(request, session_id):
    session = _session_for(request, session_id, "plans.add_photo")
    return _photo(request, patient=session.plan.patient, session=session, back=session.get_absolute_url())


def plan_photo_new(request, plan_id):
    plan = _plan_for(request, plan_id, "plans.add_photo")
    return _photo(request, patient=plan.patient, session=None, back=plan.get_absolute_url())


def photo_file(request, photo_id):
    """Clinical photos are never on a public path: only roles allowed to see them get the file."""
    require_perm(request, "plans.view_photo")
    photo = get_object_or_404(Photo, pk=photo_id)
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError as exc:
        raise Http404("Photo file missing") from exc
    access_log_record(user=request.user, patients=[photo.patient_id], path=request.path)
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


# --- adverse events -----------------------------------------------------------------------------------------


def _ae_new(request, *, plan, session, back):
    initial = {"onset_date": timezone.localdate(), "grade": 1}
    if session is not None:
        initial["lot"] = session.exosome_lot_id
    form = forms.AdverseEventForm(request.POST or None, initial=initial, lots=selectors.lots_for_recording())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event = services.adverse_event_record(
                patient=plan.patient, plan=plan, session=session, ae_type=data["ae_type"],
                onset_date=data["onset_date"], grade=data["grade"], serious=data["serious"],
                description=data["description"], action_taken=data["action_taken"], lot=data["lot"], by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Adverse event recorded. It holds the next session until a clinician reviews it.")
            return redirect("plans:adverse_event", event.pk)
    access_log_record(user=request.user, patients=[plan.patient_id], path=request.path)
    return render(
        request, "plans/visits/adverse_event_form.html",
        {"form": form, "plan": plan, "session": session, "patient": plan.patient, "back": back},
    )


def session_adverse_event_new(request, session_id):
    session = _session_for(request, session_id, "plans.add_adverseevent")
    return _ae_new(request, plan=session.plan, session=session, back=session.get_absolute_url())


def plan_adverse_event_new(request, plan_id):
    plan = _plan_for(request, plan_id, "plans.add_adverseevent")
    return _ae_new(request, plan=plan, session=None, back=plan.get_absolute_url())


def _period(request):
    form = forms.PeriodForm(request.GET or None)
    if form.is_valid():
        return form, form.cleaned_data.get("date_from"), form.cleaned_data.get("date_to")
    return form, None, None


def _period_errors(form) -> str:
    return " ".join(f"{form[name].label}: {error}" if name in form.fields else error
                    for name, errors in form.errors.items() for error in errors)


@permission_required("plans.view_adverseevent", raise_exception=True)
def adverse_event_list(request):
    form, date_from, date_to = _period(request)
    events = selectors.adverse_events_list(date_from=date_from, date_to=date_to)
    page = Paginator(events, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    access_log_record(user=request.user, patients=[e.patient_id for e in page], path=request.path)
    return render(
        request, "plans/visits/adverse_event_list.html",
        {"page": page, "form": form, "period_query": query.urlencode()},
    )


CSV_COLUMNS = [
    "event id", "patient MRN", "onset", "type", "CTCAE grade", "serious", "reportable", "outcome", "resolved on",
    "product", "manufacturer", "lot", "session", "reviewed by", "reviewed at", "description", "action taken",
]


@permission_required("plans.view_adverseevent", raise_exception=True)
def adverse_event_export(request):
    form, date_from, date_to = _period(request)
    if form.is_bound and not form.is_valid():
        # An export of everything is not what was asked for: say what is wrong with the period instead.
        return HttpResponseBadRequest(_period_errors(form), content_type="text/plain; charset=utf-8")
    rows = selectors.adverse_events_report(date_from=date_from, date_to=date_to)
    access_log_record(user=request.user, patients=[row["event"].patient_id for row in rows], path=request.path)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="adverse-events-{timezone.localdate():%Y%m%d}.csv"'
    response["Cache-Control"] = "private, no-store"
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        e = row["event"]
        lot = e.lot
        writer.writerow([csv_cell(v) for v in [
            e.pk, e.patient.mrn, e.onset_date.isoformat(), row["type_label"], e.grade, "yes" if e.serious else "no",
            "yes" if row["reportable"] else "no", e.get_outcome_display(),
            e.resolved_on.isoformat() if e.resolved_on else "",
            lot.product.name if lot else "", lot.product.manufacturer if lot else "", lot.number if lot else "",
            e.session.number if e.session else "", (e.reviewed_by.get_full_name() or e.reviewed_by.username) if e.reviewed_by else "",
            timezone.localtime(e.reviewed_at).strftime("%Y-%m-%d %H:%M") if e.reviewed_at else "",
            e.description, e.action_taken,
        ]])
    return response


@permission_required("plans.view_adverseevent", raise_exception=True)
def adverse_event_report(request):
    form, date_from, date_to = _period(request)
    if form.is_bound and not form.is_valid():
        # A printed report must not claim a period it does not cover.
        return render(request, "plans/visits/adverse_event_report.html",
                      {"rows": [], "form": form, "period_errors": _period_errors(form)}, status=400)
    rows = selectors.adverse_events_report(date_from=date_from, date_to=date_to)
    access_log_record(user=request.user, patients=[row["event"].patient_id for row in rows], path=request.path)
    return render(
        request, "plans/visits/adverse_event_report.html",
        {"rows": rows, "form": form, "date_from": date_from, "date_to": date_to,
         "reportable_count": sum(1 for r in rows if r["reportable"])},
    )


def _ae_detail_page(request, event_id, *, note_form=None, resolve_form=None, status=200):
    from plans.views.reporting import detail_context as reporting_context

    event = selectors.adverse_event_detail(event_id)
    access_log_record(user=request.user, patients=[event.patient_id], path=request.path)
    return render(
        request, "plans/visits/adverse_event_detail.html",
        {
            "event": event,
            **reporting_context(event, request.user),
            "history": selectors.adverse_event_history(event),
            "note_form": note_form or forms.AdverseEventNoteForm(action=reverse("plans:adverse_event_note", args=[event.pk])),
            "resolve_form": resolve_form or forms.AdverseEventResolveForm(
                action=reverse("plans:adverse_event_resolve", args=[event.pk]), initial={"resolved_on": timezone.localdate()}
            ),
        },
        status=status,
    )


def adverse_event_detail(request, event_id):
    require_perm(request, "plans.view_adverseevent")
    return _ae_detail_page(request, event_id)


def adverse_event_for_change(request, event_id):
    """The adverse event a clinician may change (403 otherwise); also used by the reporting views."""
    require_perm(request, "plans.change_adverseevent")
    return get_object_or_404(AdverseEvent, pk=event_id)


@require_POST
def adverse_event_note(request, event_id):
    event = adverse_event_for_change(request, event_id)
    form = forms.AdverseEventNoteForm(request.POST, action=reverse("plans:adverse_event_note", args=[event.pk]))
    if form.is_valid():
        services.adverse_event_add_note(event=event, note=form.cleaned_data["note"], by=request.user)
        messages.success(request, "Note added.")
        return redirect("plans:adverse_event", event.pk)
    return _ae_detail_page(request, event.pk, note_form=form, status=400)


@require_POST
def adverse_event_review(request, event_id):
    event = adverse_event_for_change(request, event_id)
    try:
        services.adverse_event_review(event=event, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Reviewed: the next session is no longer held by this event.")
    return redirect("plans:adverse_event", event.pk)


@require_POST
def adverse_event_resolve(request, event_id):
    event = adverse_event_for_change(request, event_id)
    form = forms.AdverseEventResolveForm(request.POST, action=reverse("plans:adverse_event_resolve", args=[event.pk]))
    if form.is_valid():
        try:
            services.adverse_event_resolve(
                event=event, outcome=form.cleaned_data["outcome"], resolved_on=form.cleaned_data["resolved_on"],
                by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Outcome recorded.")
            return redirect("plans:adverse_event", event.pk)
    return _ae_detail_page(request, event.pk, resolve_form=form, status=400)


def adverse_event_correct(request, event_id):
    event = adverse_event_for_change(request, event_id)
    initial = {name: getattr(event, name) for name in ("ae_type", "onset_date", "grade", "serious", "description", "action_taken")}
    initial["lot"] = event.lot_id
    form = forms.AdverseEventCorrectForm(request.POST or None, initial=initial, lots=selectors.lots_for_recording())
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in services.AE_CORRECTABLE_FIELDS}
        try:
            services.adverse_event_correct(event=event, changes=changes, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Correction saved; the earlier values are kept in the history.")
            return redirect("plans:adverse_event", event.pk)
    access_log_record(user=request.user, patients=[event.patient_id], path=request.path)
    return render(request, "plans/visits/adverse_event_correct.html", {"form": form, "event": event})


# --- products and lots ------------------------------------------------------------------------------------------


@permission_required("plans.view_lot", raise_exception=True)
def lot_list(request):
    page = Paginator(selectors.lots_list(), settings.PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = safety.lots_with_safety_in_order(list(page.object_list))
    return render(request, "plans/visits/lot_list.html", {"page": page, "today": timezone.localdate()})


@permission_required("plans.add_lot", raise_exception=True)
def lot_new(request):
    form = forms.LotForm(request.POST or None, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lot = services.lot_receive(
                product=data["product"], number=data["number"], expiry_date=data["expiry_date"],
                received_on=data["received_on"], quantity=data["quantity"], by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Lot {lot.number} received.")
            return redirect("plans:lot", lot.pk)
    return render(request, "plans/visits/simple_form.html", {"form": form, "title": "Receive a lot", "back": reverse("plans:lots")})


def lot_detail(request, lot_id):
    require_perm(request, "plans.view_lot")
    context = selectors.lot_where_used(lot_id)
    context["safety"] = safety.lot_safety(lot_id)
    # "Where used" names every patient who received the lot, and those with adverse events linked to it (S58).
    shown = [p.pk for p in context["patients"]] + [e.patient_id for e in context["lot_adverse_events"]]
    access_log_record(user=request.user, patients=shown, path=request.path)
    context["today"] = timezone.localdate()
    context["recall_form"] = forms.RecallForm(action=reverse("plans:lot_recall", args=[lot_id]))
    return render(request, "plans/visits/lot_detail.html", context)


@require_POST
def lot_recall(request, lot_id):
    require_perm(request, "plans.change_lot")
    lot = get_object_or_404(Lot, pk=lot_id)
    form = forms.RecallForm(request.POST)
    if form.is_valid():
        try:
            services.lot_recall(lot=lot, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.warning(request, f"Lot {lot.number} recalled. Contact the patients listed below.")
    else:
        messages.error(request, services.ERR_RECALL_REASON)
    return redirect("plans:lot", lot.pk)


@permission_required("plans.view_lot", raise_exception=True)
def product_list(request):
    products = safety.products_with_safety(list(selectors.products_list()))
    return render(request, "plans/visits/product_list.html", {"products": products})


@permission_required("plans.add_exosomeproduct", raise_exception=True)
def product_new(request):
    form = forms.ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            product = services.product_create(
                name=data["name"], manufacturer=data["manufacturer"], source=data["source"],
                storage_format=data["storage_format"], storage_rule=data["storage_rule"],
                route_labelled=data["route_labelled"], regulatory_status=data["regulatory_status"],
                clinic_decision=data["clinic_decision"], by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Product {product.name} added.")
            return redirect("plans:products")
    return render(request, "plans/visits/simple_form.html", {"form": form, "title": "New exosome product", "back": reverse("plans:products")})


urlpatterns = [
    path("sessions/<int:session_id>/", session_detail, name="session"),
    path("sessions/<int:session_id>/check/", session_check, name="session_check"),
    path("sessions/<int:session_id>/record/", session_record, name="session_record"),
    path("sessions/<int:session_id>/amend/", session_amend, name="session_amend"),
    path("sessions/<int:session_id>/skip/", session_skip, name="session_skip"),
    path("sessions/<int:session_id>/assessments/new/", session_assessment_new, name="session_assessment_new"),
    path("sessions/<int:session_id>/photos/new/", session_photo_new, name="session_photo_new"),
    path("sessions/<int:session_id>/adverse-events/new/", session_adverse_event_new, name="session_adverse_event_new"),
    path("plans/<int:plan_id>/assessments/new/", plan_assessment_new, name="plan_assessment_new"),
    path("plans/<int:plan_id>/photos/new/", plan_photo_new, name="plan_photo_new"),
    path("plans/<int:plan_id>/adverse-events/new/", plan_adverse_event_new, name="plan_adverse_event_new"),
    path("photos/<int:photo_id>/", photo_file, name="photo"),
    path("adverse-events/", adverse_event_list, name="adverse_events"),
    path("adverse-events/export.csv", adverse_event_export, name="adverse_events_export"),
    path("adverse-events/report/", adverse_event_report, name="adverse_events_report"),
    path("adverse-events/<int:event_id>/", adverse_event_detail, name="adverse_event"),
    path("adverse-events/<int:event_id>/notes/", adverse_event_note, name="adverse_event_note"),
    path("adverse-events/<int:event_id>/review/", adverse_event_review, name="adverse_event_review"),
    path("adverse-events/<int:event_id>/resolve/", adverse_event_resolve, name="adverse_event_resolve"),
    path("adverse-events/<int:event_id>/correct/", adverse_event_correct, name="adverse_event_correct"),
    path("lots/", lot_list, name="lots"),
    path("lots/new/", lot_new, name="lot_new"),
    path("lots/products/", product_list, name="products"),
    path("lots/products/new/", product_new, name="product_new"),
    path("lots/<int:lot_id>/", lot_detail, name="lot"),
    path("lots/<int:lot_id>/recall/", lot_recall, name="lot_recall"),
]
