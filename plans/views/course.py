"""Course pages: the plan builder, the plan page and its lifecycle, findings overrides, consent, the printable
summary, and the managers' protocol templates and consent texts. Thin: access → form → service/selector → render."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic import fragments
from clinic.formkit import add_service_errors
from clinic.services import access_log_record
from patients.models import Patient
from plans import rules
from plans.forms import course as forms
from plans.models import Consent, ConsentKind, Plan, PlanState, ProtocolTemplate
from plans.selectors import course as selectors
from plans.services import course as services

MSG_PLAN_CREATED = "Draft plan saved. Review the findings, record consent, then activate it."
MSG_PLAN_SAVED = "Plan saved."
MSG_OVERRIDE_SAVED = "Override recorded."
MSG_CONSENT_SAVED = "Consent recorded."
MSG_ACTIVATED = "Plan activated."
MSG_STOPPED = "Plan stopped."
MSG_COMPLETED = "Plan completed."
MSG_NOT_EDITABLE = "A completed or stopped plan cannot be changed."
MSG_TEMPLATE_SAVED = "Template saved."
MSG_TEXT_PUBLISHED = "Published version {version} of “{title}”."
MSG_NO_CONSENT_TEXT = "No consent text has been published for {label} yet: a manager must publish one."
ADJUNCT_PREFIX = "adjuncts"


def _plan_for(request, plan_id, perm) -> Plan:
    if not request.user.has_perm(perm):
        raise PermissionDenied
    return selectors.plan_for_write(plan_id)


def _flash_errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# --- Plan builder ---------------------------------------------------------------------------------------------


def _builder(request, *, patient, plan=None):
    cfg = selectors.plan_config()
    creating = plan is None
    template = None
    if request.method == "POST":
        form = forms.PlanForm(request.POST, instance=plan, cfg=cfg, creating=creating, patient=patient)
        formset = forms.AdjunctFormSet(request.POST, prefix=ADJUNCT_PREFIX)
        form.previewing = "preview" in request.POST
    else:
        if creating:
            chooser = forms.TemplateChoiceForm(request.GET or None)
            template = chooser.cleaned_data["template"] if chooser.is_valid() else None
            initial = forms.plan_initial_from_template(template, patient, cfg)
            adjuncts = forms.adjunct_initial(template.adjuncts if template else [])
        else:
            initial, adjuncts = {}, forms.adjunct_initial(plan.adjuncts.all())
        form = forms.PlanForm(instance=plan, initial=initial, cfg=cfg, creating=creating, patient=patient)
        formset = forms.AdjunctFormSet(initial=adjuncts, prefix=ADJUNCT_PREFIX)

    valid = request.method == "POST" and form.is_valid() & formset.is_valid()
    if valid and not form.previewing:
        try:
            if creating:
                plan = services.plan_create(
                    patient=patient, by=request.user, template=form.cleaned_data.get("template"),
                    adjuncts=forms.adjunct_rows(formset), **form.plan_fields(),
                )
                messages.success(request, MSG_PLAN_CREATED)
            else:
                plan = services.plan_update(
                    plan=plan, by=request.user, adjuncts=forms.adjunct_rows(formset), **form.plan_fields()
                )
                messages.success(request, MSG_PLAN_SAVED)
            return redirect(plan)
        except ValidationError as error:
            add_service_errors(form, error)

    context = {
        "patient": patient, "plan": plan, "form": form, "formset": formset, "creating": creating,
        "chooser": forms.TemplateChoiceForm(initial={"template": template}) if creating else None,
        "template": template, "preview": _preview(form, formset, patient, cfg, bound_valid=valid),
        "fitzpatrick_high_risk": rules.treat_as_darker_skin(patient.fitzpatrick_type),
    }
    access_log_record(user=request.user, patients=[patient], path=request.path)
    return render(request, "plans/course/plan_form.html", context)


def _preview(form, formset, patient, cfg, *, bound_valid):
    """Timeline and findings for what is on the form: cleaned data once valid, else the initial values."""
    if form.is_bound:
        if not bound_valid:
            return None
        values = form.cleaned_data
        specs = selectors.adjunct_specs(forms.adjunct_rows(formset))
    else:
        values = {name: form.initial.get(name, form.fields[name].initial) for name in form.fields}
        if form.instance.pk:
            for name in ("modality", "start_date", "sessions_planned", "interval_days", "window_before_days", "window_after_days"):
                values[name] = getattr(form.instance, name)
        specs = selectors.adjunct_specs(formset.initial or [])
    try:
        timeline = selectors.timeline_preview(
            start=values["start_date"], sessions=int(values["sessions_planned"]), interval_days=int(values["interval_days"]),
            window_before_days=int(values["window_before_days"]), window_after_days=int(values["window_after_days"]),
            followup_months=values.get("followup_months") or [],
        )
        findings = selectors.findings_for(
            patient, modality=values["modality"], adjuncts=specs, start=values["start_date"],
            sessions=int(values["sessions_planned"]), interval_days=int(values["interval_days"]),
            today=timezone.localdate(), cfg=cfg,
        )
    except (KeyError, TypeError, ValueError):
        return None
    return {"timeline": timeline, "findings": findings}


def plan_new(request, patient_id):
    if not request.user.has_perm("plans.add_plan"):
        raise PermissionDenied
    patient = get_object_or_404(Patient.objects.current(), pk=patient_id)
    return _builder(request, patient=patient)


def plan_edit(request, plan_id):
    plan = _plan_for(request, plan_id, "plans.change_plan")
    if plan.state not in (PlanState.DRAFT, PlanState.ACTIVE):
        messages.error(request, MSG_NOT_EDITABLE)
        return redirect(plan)
    return _builder(request, patient=plan.patient, plan=plan)


# --- Plan page and lifecycle ------------------------------------------------------------------------------------


@permission_required("plans.view_plan", raise_exception=True)
def plan_detail(request, plan_id):
    patient_id = selectors.plan_patient_id(plan_id)  # 404 for an unknown plan, before the log

    def read():
        plan = selectors.plan_for_page(plan_id)
        context = selectors.plan_page_context(plan, request.user) | {"override_form": forms.OverrideForm()}
        return f"{plan.get_modality_display()} course · {plan.patient.full_name}", context

    fragment = fragments.for_patient(
        request, "plan page", patient_id, "plans/course/includes/plan_body.html", read, plan_id,
    )
    response = render(request, "plans/course/plan_detail.html", {"fragment": fragment})
    access_log_record(user=request.user, patients=[patient_id], path=request.path)
    return response


@permission_required("plans.view_plan", raise_exception=True)
def plan_summary(request, plan_id):
    plan = selectors.plan_for_page(plan_id)
    context = {
        "plan": plan, "patient": plan.patient, "timeline": selectors.plan_timeline(plan),
        "sun_notes": rules.without_source_keys(plan.sun_notes),  # patients read this page
    }
    access_log_record(user=request.user, patients=[plan.patient_id], path=request.path)
    return render(request, "plans/course/plan_summary.html", context)


@require_POST
def plan_override(request, plan_id):
    plan = _plan_for(request, plan_id, "plans.change_plan")
    form = forms.OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.finding_override_record(plan=plan, by=request.user, **form.cleaned_data)
            messages.success(request, MSG_OVERRIDE_SAVED)
        except ValidationError as error:
            _flash_errors(request, error)
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect(plan.get_absolute_url() + "#findings")


@require_POST
def plan_activate(request, plan_id):
    plan = _plan_for(request, plan_id, "plans.approve_plan")
    try:
        services.plan_activate(plan=plan, by=request.user)
        messages.success(request, MSG_ACTIVATED)
    except ValidationError as error:
        _flash_errors(request, error)
    return redirect(plan)


def plan_stop(request, plan_id):
    plan = _plan_for(request, plan_id, "plans.change_plan")
    form = forms.StopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_stop(plan=plan, reason=form.cleaned_data["reason"], by=request.user)
            messages.success(request, MSG_STOPPED)
            return redirect(plan)
        except ValidationError as error:
            add_service_errors(form, error)
    access_log_record(user=request.user, patients=[plan.patient_id], path=request.path)
    return render(request, "plans/course/plan_stop.html", {"plan": plan, "form": form})


@require_POST
def plan_complete(request, plan_id):
    plan = _plan_for(request, plan_id, "plans.change_plan")
    try:
        services.plan_complete(plan=plan, by=request.user)
        messages.success(request, MSG_COMPLETED)
    except ValidationError as error:
        _flash_errors(request, error)
    return redirect(plan)


# --- Consent --------------------------------------------------------------------------------------------------


def consent_new(request, plan_id, kind):
    plan = _plan_for(request, plan_id, "plans.add_consent")
    if kind not in (plan.modality, ConsentKind.EXOSOME):
        raise Http404
    text = selectors.current_consent_text(kind)
    if text is None:
        messages.error(request, MSG_NO_CONSENT_TEXT.format(label=ConsentKind(kind).label))
        return redirect(plan)
    initial = {
        "patient_printed_name": plan.patient.full_name,
        "signed_at": timezone.localtime().replace(second=0, microsecond=0),
    }
    form = forms.ConsentForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_record(
                plan=plan, text=text, patient_printed_name=data["patient_printed_name"],
                signature=form.signature_value(), patient_confirms=data["patient_confirms"],
                witness_name=data["witness_name"], signed_at=data["signed_at"], scanned_form=data["scanned_form"],
                by=request.user,
            )
            messages.success(request, MSG_CONSENT_SAVED)
            return redirect(plan.get_absolute_url() + "#consent")
        except ValidationError as error:
            add_service_errors(form, error)
    access_log_record(user=request.user, patients=[plan.patient_id], path=request.path)
    return render(request, "plans/course/consent_form.html", {"plan": plan, "text": text, "form": form})


def consent_scan(request, consent_id):
    """The scanned paper form, after a role check (media is never served directly)."""
    if not (request.user.has_perm("plans.view_plan") and request.user.has_perm("patients.view_clinical_history")):
        raise PermissionDenied
    consent = get_object_or_404(Consent.objects.select_related("plan"), pk=consent_id)
    if not consent.scanned_form:
        raise Http404
    try:
        handle = consent.scanned_form.open("rb")
    except FileNotFoundError as exc:
        raise Http404("Scanned form missing") from exc
    access_log_record(user=request.user, patients=[consent.plan.patient_id], path=request.path)
    return FileResponse(handle, filename=consent.scanned_form.name.rsplit("/", 1)[-1])


# --- Managers: protocol templates and consent texts ---------------------------------------------------------------


@permission_required("plans.view_protocoltemplate", raise_exception=True)
def template_list(request):
    return render(request, "plans/course/template_list.html", {"templates": selectors.protocol_templates()})


def _template_form(request, template=None):
    cfg = selectors.plan_config()
    form = forms.ProtocolTemplateForm(request.POST or None, instance=template, cfg=cfg)
    adjunct_initial = forms.adjunct_initial(template.adjuncts if template else [])
    formset_kwargs = {"prefix": ADJUNCT_PREFIX, "form_kwargs": {"dates": False}}
    if request.method == "POST":
        formset = forms.AdjunctFormSet(request.POST, **formset_kwargs)
        if form.is_valid() & formset.is_valid():
            adjuncts = [
                {k: v for k, v in row.items() if v not in (None, "")} for row in forms.adjunct_rows(formset)
            ]
            try:
                services.protocol_template_save(
                    template=template, by=request.user, adjuncts=adjuncts, **form.template_fields()
                )
                messages.success(request, MSG_TEMPLATE_SAVED)
                return redirect("plans:templates")
            except ValidationError as error:
                add_service_errors(form, error)
    else:
        formset = forms.AdjunctFormSet(initial=adjunct_initial, **formset_kwargs)
    return render(request, "plans/course/template_form.html", {"form": form, "formset": formset, "template": template})


@permission_required("plans.add_protocoltemplate", raise_exception=True)
def template_new(request):
    return _template_form(request)


@permission_required("plans.change_protocoltemplate", raise_exception=True)
def template_edit(request, template_id):
    return _template_form(request, get_object_or_404(ProtocolTemplate, pk=template_id))


@permission_required("plans.view_consenttext", raise_exception=True)
def consent_text_list(request):
    return render(request, "plans/course/consent_text_list.html", {"kinds": selectors.consent_texts_by_kind()})


@permission_required("plans.add_consenttext", raise_exception=True)
def consent_text_new(request):
    initial = {}
    kind = request.GET.get("kind")
    if kind in ConsentKind.values:
        current = selectors.current_consent_text(kind)
        initial = {"kind": kind, "title": current.title, "body": current.body} if current else {"kind": kind}
    form = forms.ConsentTextForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        text = services.consent_text_publish(by=request.user, **form.cleaned_data)
        messages.success(request, MSG_TEXT_PUBLISHED.format(version=text.version, title=text.title))
        return redirect("plans:consent_texts")
    return render(request, "plans/course/consent_text_form.html", {"form": form})


urlpatterns = [
    path("patients/<int:patient_id>/plans/new/", plan_new, name="new"),
    path("plans/<int:plan_id>/", plan_detail, name="detail"),
    path("plans/<int:plan_id>/edit/", plan_edit, name="edit"),
    path("plans/<int:plan_id>/summary/", plan_summary, name="summary"),
    path("plans/<int:plan_id>/overrides/", plan_override, name="override"),
    path("plans/<int:plan_id>/consent/<str:kind>/", consent_new, name="consent"),
    path("plans/<int:plan_id>/activate/", plan_activate, name="activate"),
    path("plans/<int:plan_id>/stop/", plan_stop, name="stop"),
    path("plans/<int:plan_id>/complete/", plan_complete, name="complete"),
    path("consents/<int:consent_id>/scan/", consent_scan, name="consent_scan"),
    path("templates/", template_list, name="templates"),
    path("templates/new/", template_new, name="template_new"),
    path("templates/<int:template_id>/", template_edit, name="template_edit"),
    path("consent-texts/", consent_text_list, name="consent_texts"),
    path("consent-texts/new/", consent_text_new, name="consent_text_new"),
]
