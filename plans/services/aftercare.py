"""Aftercare writes: publishing a text version, issuing the sheet of a session, rendering and emailing its PDF.

A sheet is rendered once, from the session actually performed (§8, §5), and stored with the text versions used;
every later print, PDF or email reuses the stored content, so a later text edit never changes what the patient
received. Stored content is plain text (never HTML): templates escape it.
"""

import functools
import logging
import re
import smtplib
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from plans import rules
from plans.models import (
    AftercareSheet,
    AftercareText,
    PlanAdjunct,
    SessionStatus,
    TreatmentSession,
)
from plans.selectors.aftercare import (
    aftercare_next_appointment,
    aftercare_texts_current,
)

ERR_NOT_COMPLETED = "An aftercare sheet is only given for a session recorded as done."
ERR_NO_MODALITY = "This session has no modality recorded, so its aftercare cannot be chosen."
ERR_TEXT_MISSING = "No aftercare text for {section} ({modality}): a manager must add it first."
ERR_NO_EMAIL = "This patient has no email address on file."
ERR_NO_EMAIL_CONSENT = "This patient has not agreed to receive email; print the sheet instead."
ERR_MAIL_FAILED = "The mail server did not accept the email; try again later or print the sheet."
ERR_STALE_VERSION = "Someone saved version {version} of this text meanwhile: reload the page and edit that one."
ERR_UNKNOWN_PLACEHOLDER = "Unknown placeholder(s): {names}. Allowed: {allowed}."
ERR_UNKNOWN_SECTION = "Unknown aftercare section {section!r}."
ERR_SOURCE_KEY = "Patients read this text: leave out internal references (source keys such as S12, § sections)."

logger = logging.getLogger(__name__)

# Placeholders a text may contain; filled from the session when the sheet is issued. Anything else in braces
# is refused when a text is saved, and left as it is if it ever reaches a sheet.
PLACEHOLDERS = (
    "clinic_name", "clinic_phone", "session_date", "restart_date", "product", "lot", "spf", "reapply_hours",
    "applied_when",
)
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_]+)\}")
CONTENT_FORMAT = 1
DATE_DISPLAY = "l j F Y"  # "Tuesday 3 June 2025": unambiguous on both sides of the Atlantic
PDF_STYLESHEET = "css/aftercare-print.css"


class AftercareError(Exception):
    """A sheet cannot be issued or sent; the message is for the user."""


# ---------------------------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------------------------


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER_RE.findall(text) if name not in PLACEHOLDERS})


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Replace known {name}s with plain values (no format-string attribute access, no HTML)."""
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def text_blocks(body: str) -> list[dict]:
    """Plain text into blocks: paragraphs (blank-line separated) and bullet lists ("- " lines)."""
    blocks: list[dict] = []
    paragraph: list[str] = []

    def close_paragraph():
        if paragraph:
            blocks.append({"kind": "p", "text": "\n".join(paragraph)})
            paragraph.clear()

    in_list = False
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            close_paragraph()
            in_list = False
        elif line.startswith("- "):
            close_paragraph()
            if not in_list:
                blocks.append({"kind": "ul", "items": []})
                in_list = True
            blocks[-1]["items"].append(line[2:].strip())
        else:
            paragraph.append(line)
            in_list = False
    close_paragraph()
    return blocks


@transaction.atomic
def aftercare_text_publish(
    *, section: str, modality: str, title: str, body: str, by, base_version: int | None = None
) -> AftercareText:
    """Save an edit as the next version of a text; earlier versions stay as they were."""
    if section not in rules.AFTERCARE_SECTIONS:
        raise AftercareError(ERR_UNKNOWN_SECTION.format(section=section))
    if rules.contains_source_key(title + "\n" + body):
        raise AftercareError(ERR_SOURCE_KEY)
    unknown = unknown_placeholders(title + "\n" + body)
    if unknown:
        raise AftercareError(
            ERR_UNKNOWN_PLACEHOLDER.format(
                names=", ".join("{%s}" % n for n in unknown), allowed=", ".join("{%s}" % n for n in PLACEHOLDERS)
            )
        )
    # Lock the existing versions so two managers saving at once cannot both become "version n + 1".
    versions = AftercareText.objects.select_for_update().filter(section=section, modality=modality)
    latest = versions.aggregate(latest=Max("version"))["latest"] or 0
    if base_version is not None and base_version != latest:
        raise AftercareError(ERR_STALE_VERSION.format(version=latest))
    text = AftercareText(section=section, modality=modality, version=latest + 1, title=title, body=body, created_by=by)
    text.full_clean()
    text.save()
    return text


# ---------------------------------------------------------------------------------------------------------
# Issuing a sheet
# ---------------------------------------------------------------------------------------------------------


def _session_moment(session: TreatmentSession):
    return session.performed_at or session.completed_at or timezone.now()


def _pick_texts(sections: list[str], modality: str) -> dict[str, AftercareText]:
    """The newest text per section, the modality's own version before the one for every modality."""
    by_key = {(t.section, t.modality): t for t in aftercare_texts_current(sections=sections, modalities=[modality, ""])}
    picked = {}
    for section in sections:
        text = by_key.get((section, modality)) or by_key.get((section, ""))
        if text is None:
            raise AftercareError(ERR_TEXT_MISSING.format(section=section, modality=modality))
        picked[section] = text
    return picked


def _current_adjuncts(session: TreatmentSession, session_day) -> list[PlanAdjunct]:
    return [
        adjunct
        for adjunct in PlanAdjunct.objects.filter(plan_id=session.plan_id).order_by("id")
        if adjunct.stop_date is None or adjunct.stop_date >= session_day
    ]


def _regimen_lines(adjuncts: list[PlanAdjunct], modality: str, session_day) -> list[str]:
    lines = []
    for adjunct in adjuncts:
        name = " ".join(part for part in (adjunct.get_agent_display(), adjunct.strength, adjunct.frequency) if part)
        restart = rules.restart_day(adjunct.agent, modality, session_day)  # S70, S71
        if restart is not None:
            lines.append(_("%(agent)s: restart on %(date)s, if your skin is calm.") % {
                "agent": name, "date": date_format(restart, DATE_DISPLAY)})
        elif adjunct.agent == rules.OTHER_AGENT:
            lines.append(_("%(agent)s: ask the clinic before restarting.") % {"agent": name})
        else:
            lines.append(_("%(agent)s: not paused for treatment; continue as prescribed.") % {"agent": name})
    return lines


def _sunscreen_lines(plan) -> list[str]:
    """The patient's own sun-protection regimen from the plan (§5: S51, S52, S54)."""
    kind = _("broad-spectrum (UVA and UVB) sunscreen") if plan.broad_spectrum else _("sunscreen")
    lines = [_("Your sunscreen: %(kind)s, SPF %(spf)s or higher.") % {"kind": kind, "spf": plan.spf}]
    if plan.tinted_iron_oxide:
        lines.append(_("Choose a tinted one with iron oxides, matched to your skin tone: it also blocks visible light."))
    lines.append(_("Reapply every %(hours)s hours outdoors, and after sweating or swimming.") % {
        "hours": plan.reapply_hours})
    if plan.sun_notes:
        lines.append(rules.without_source_keys(plan.sun_notes))
    return lines


def _next_appointment_text(session: TreatmentSession) -> str:
    appointment = aftercare_next_appointment(session=session)
    if appointment is None:
        return _("To be booked — the clinic will call you.")
    start = timezone.localtime(appointment.start)
    return _("%(date)s at %(time)s") % {"date": date_format(start, DATE_DISPLAY), "time": date_format(start, "H:i")}


def aftercare_content_build(*, session: TreatmentSession) -> tuple[dict, dict]:
    """The sheet's content and the text versions it used, from the session as performed. Nothing is saved."""
    plan, patient = session.plan, session.plan.patient
    modality = session.modality or plan.modality
    if modality not in rules.MODALITIES:
        raise AftercareError(ERR_NO_MODALITY)
    moment = timezone.localtime(_session_moment(session))
    session_day = moment.date()
    adjuncts = _current_adjuncts(session, session_day)
    lot = session.exosome_lot
    keys = rules.aftercare_sections(
        modality, [a.agent for a in adjuncts], patient.hsv_history, exosome_applied=lot is not None
    )
    texts = _pick_texts(keys, modality)
    restart_days = [d for d in (rules.restart_day(a.agent, modality, session_day) for a in adjuncts) if d]
    values = {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "session_date": date_format(session_day, DATE_DISPLAY),
        "restart_date": date_format(min(restart_days), DATE_DISPLAY) if restart_days else "",
        "product": lot.product.name if lot else "",
        "lot": lot.number if lot else "",
        "spf": str(plan.spf),
        "reapply_hours": str(plan.reapply_hours),
        "applied_when": rules.exosome_applied_phrase(session.exosome_applied),  # as recorded, never assumed
    }
    sections = []
    for key in keys:
        text = texts[key]
        # Texts written by staff may still cite sources; a patient never reads them (rules.without_source_keys).
        blocks = text_blocks(rules.without_source_keys(fill_placeholders(text.body, values)))
        if key == "topicals_restart":
            blocks.append({"kind": "ul", "items": _regimen_lines(adjuncts, modality, session_day)})
        elif key == "sun_protection":
            # The patient's own sunscreen right after the opening after-procedure rule.
            blocks.insert(min(1, len(blocks)), {"kind": "ul", "items": _sunscreen_lines(plan)})
        sections.append({"key": key, "title": rules.without_source_keys(fill_placeholders(text.title, values)), "blocks": blocks})
    clinician = session.performed_by
    content = {
        "format": CONTENT_FORMAT,
        "clinic": {"name": settings.CLINIC_NAME, "phone": settings.CLINIC_PHONE},
        "patient": {
            "name": patient.full_name,
            "date_of_birth": date_format(patient.date_of_birth, "j F Y"),
            "mrn": patient.mrn,
        },
        "session": {
            "date": date_format(session_day, DATE_DISPLAY),
            "iso_date": session_day.isoformat(),
            "number": session.number,
            "modality": modality,
            "modality_label": dict(rules.MODALITY_CHOICES)[modality],
            "clinician": (clinician.get_full_name() or clinician.username) if clinician else "",
        },
        "next_appointment": _next_appointment_text(session),
        "sections": sections,
    }
    versions = {key: {"id": t.pk, "modality": t.modality, "version": t.version} for key, t in texts.items()}
    return content, versions


@transaction.atomic
def aftercare_sheet_issue(*, session: TreatmentSession, by) -> AftercareSheet:
    """The sheet given with a completed session: stored the first time, the same stored sheet ever after."""
    locked = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("plan__patient", "exosome_lot__product", "performed_by")
        .get(pk=session.pk)
    )
    existing = AftercareSheet.objects.filter(session=locked).first()
    if existing is not None:
        return existing
    if locked.status != SessionStatus.COMPLETED:
        raise AftercareError(ERR_NOT_COMPLETED)
    content, versions = aftercare_content_build(session=locked)
    sheet = AftercareSheet(session=locked, content=content, text_versions=versions, created_by=by)
    sheet.full_clean()
    sheet.save()
    return sheet


# ---------------------------------------------------------------------------------------------------------
# PDF and email
# ---------------------------------------------------------------------------------------------------------


def _static_root() -> Path:
    return Path(finders.find(PDF_STYLESHEET)).parent.parent


def aftercare_sheet_pdf(*, sheet: AftercareSheet) -> bytes:
    """The stored sheet as a PDF (WeasyPrint), styled by the same print stylesheet read from disk."""
    from weasyprint import CSS, HTML

    from clinic.pdf import url_fetcher

    html = render_to_string("plans/aftercare/pdf.html", {"content": sheet.content, "sheet": sheet})
    stylesheet = CSS(filename=finders.find(PDF_STYLESHEET))
    document = HTML(string=html, base_url=_static_root().as_uri() + "/", url_fetcher=url_fetcher("file"))
    return document.write_pdf(stylesheets=[stylesheet])


def aftercare_pdf_filename(sheet: AftercareSheet) -> str:
    content = sheet.content
    return f"aftercare-{slugify(content['patient']['mrn'])}-{content['session']['iso_date']}.pdf"


def aftercare_sheet_email(*, sheet: AftercareSheet, by) -> AftercareSheet:
    """Email the sheet's PDF to the patient, only where they agreed to email; record when it went.

    Rendering the PDF and talking to the mail server happen outside any transaction (transaction.on_commit),
    so a slow or unreachable mail server never holds a row lock or a transaction open. Called from a view
    (no transaction open) the mail has gone, or AftercareError says why not, when this returns; called inside a
    caller's transaction it goes once that commits."""
    checked = AftercareSheet.objects.select_related("session__plan__patient").get(pk=sheet.pk)
    _refuse_unless_may_email(checked.session.plan.patient)
    transaction.on_commit(functools.partial(_aftercare_sheet_send, sheet_id=checked.pk))
    return checked


def _refuse_unless_may_email(patient) -> None:
    refusal = rules.email_refusal(patient.email, patient.email_consent)
    if refusal is not None:
        raise AftercareError(ERR_NO_EMAIL if refusal == rules.EMAIL_NO_ADDRESS else ERR_NO_EMAIL_CONSENT)


def _aftercare_sheet_send(*, sheet_id: int) -> None:
    sheet = AftercareSheet.objects.select_related("session__plan__patient").get(pk=sheet_id)
    patient = sheet.session.plan.patient
    _refuse_unless_may_email(patient)  # consent withdrawn since the check: send nothing
    clinic = sheet.content["clinic"]["name"]
    message = EmailMessage(
        subject=_("Your aftercare instructions from %(clinic)s") % {"clinic": clinic},
        body=_(
            "Dear %(name)s,\n\nAttached are the aftercare instructions for your treatment on %(date)s.\n"
            "If you have any questions, call us on %(phone)s.\n\n%(clinic)s"
        ) % {
            "name": sheet.content["patient"]["name"],
            "date": sheet.content["session"]["date"],
            "phone": sheet.content["clinic"]["phone"],
            "clinic": clinic,
        },
        to=[patient.email],
    )
    message.attach(aftercare_pdf_filename(sheet), aftercare_sheet_pdf(sheet=sheet), "application/pdf")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("aftercare sheet %s: the mail server did not take the email (%s)", sheet_id, type(error).__name__)
        raise AftercareError(ERR_MAIL_FAILED) from error
    sheet.emailed_at = timezone.now()
    sheet.full_clean()
    sheet.save(update_fields=["emailed_at"])  # one UPDATE in autocommit, after the mail has gone
