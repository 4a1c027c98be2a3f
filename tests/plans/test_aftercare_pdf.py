"""The PDF (WeasyPrint) from the stored sheet, and emailing it to the patient where they agreed to email."""

import datetime as dt
import subprocess

import pytest
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse

from plans.models import AftercareSheet
from plans.services.aftercare import (
    ERR_MAIL_FAILED,
    ERR_NO_EMAIL,
    ERR_NO_EMAIL_CONSENT,
    ERR_NOT_COMPLETED,
    aftercare_content_build,
    aftercare_sheet_email,
    aftercare_sheet_issue,
)
from tests.plans.test_aftercare_content import LONDON, completed_session

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def pdf_pages(pdf: bytes, tmp_path) -> list[str]:
    return pdf_text(pdf, tmp_path).split("\f")[:-1]


def test_pdf_download_contains_name_modality_instructions_and_next_appointment(front_desk_client, tmp_path):
    session = completed_session(modality="nafl", next_at=dt.datetime(2025, 7, 1, 14, 30, tzinfo=LONDON))

    response = front_desk_client.get(reverse("plans:aftercare_pdf", args=[session.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    mrn = session.plan.patient.mrn.lower()
    assert response["Content-Disposition"] == f'attachment; filename="aftercare-{mrn}-2025-06-03.pdf"'
    assert response.content.startswith(b"%PDF-")
    text = " ".join(pdf_text(response.content, tmp_path).split())
    assert "Nadia Rahman" in text
    assert "Date of birth 14 March 1985" in text
    assert "Cool compress for 10 minutes every hour" in text  # NAFL day 0 (S69, S70)
    assert "Strictly avoid direct sun for 1–2 months" in text
    assert "Tuesday 1 July 2025 at 14:30" in text
    assert "needle channels" not in text


def test_full_sheet_fits_two_pages_with_the_patient_on_every_page(clinician_client, tmp_path):
    # The longest sheet: NAFL has four phases; every optional section applies.
    session = completed_session(
        modality="nafl", hsv=True,
        agents=["triple_combination", "hydroquinone", "tretinoin", "azelaic_acid", "vitamin_c", "txa_oral", "niacinamide"],
    )

    response = clinician_client.get(reverse("plans:aftercare_pdf", args=[session.pk]))

    pages = pdf_pages(response.content, tmp_path)
    assert 1 <= len(pages) <= 2
    for page in pages:
        flat = " ".join(page.split())
        assert "Nadia Rahman" in flat and "Date of birth 14 March 1985" in flat


def test_pdf_reuses_the_stored_sheet(clinician_client, tmp_path):
    session = completed_session()
    # A sheet stored as given, whose title today's texts would not produce (an issued sheet is never changed:
    # on PostgreSQL a trigger refuses it, so the stored sheet is written as such).
    content, versions = aftercare_content_build(session=session)
    content["sections"][0]["title"] = "Stored title as given"
    AftercareSheet.objects.create(session=session, content=content, text_versions=versions,
                                  created_by=session.performed_by)

    response = clinician_client.get(reverse("plans:aftercare_pdf", args=[session.pk]))

    assert "Stored title as given" in pdf_text(response.content, tmp_path)
    assert AftercareSheet.objects.count() == 1


def test_pdf_of_a_session_not_done_is_refused_clearly(clinician_client):
    session = completed_session(status="planned")

    response = clinician_client.get(reverse("plans:aftercare_pdf", args=[session.pk]))

    assert response.status_code == 409
    assert ERR_NOT_COMPLETED in response.content.decode()


# --- email -------------------------------------------------------------------------------------------------


def test_email_sends_one_message_with_the_pdf_and_records_it(
    front_desk_client, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.CLINIC_NAME = "Harbour Skin Clinic"
    session = completed_session()
    url = reverse("plans:aftercare_email", args=[session.pk])

    with django_capture_on_commit_callbacks(execute=True):  # the test's own transaction stands in for none
        response = front_desk_client.post(url, {"next": f"/sessions/{session.pk}/"})

    assert response.status_code == 302 and response["Location"] == f"/sessions/{session.pk}/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nadia.rahman@example.com"]
    assert message.subject == "Your aftercare instructions from Harbour Skin Clinic"
    (filename, content, mimetype), = message.attachments
    assert mimetype == "application/pdf" and filename.endswith("-2025-06-03.pdf")
    assert "Nadia Rahman" in pdf_text(content, tmp_path)
    sheet = AftercareSheet.objects.get(session=session)
    assert sheet.emailed_at is not None


@pytest.mark.parametrize(
    ("email", "consent", "message"),
    [("nadia.rahman@example.com", False, ERR_NO_EMAIL_CONSENT), ("", True, ERR_NO_EMAIL)],
)
def test_email_refused_without_address_or_consent(front_desk_client, email, consent, message):
    session = completed_session(email=email, email_consent=consent)
    url = reverse("plans:aftercare_email", args=[session.pk])

    response = front_desk_client.post(url, follow=True)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert mail.outbox == []
    assert AftercareSheet.objects.get(session=session).emailed_at is None


def test_email_goes_only_after_the_callers_transaction_commits(front_desk, django_capture_on_commit_callbacks):
    """Inside a transaction (a caller's, or a future command's) nothing is rendered or sent until it commits."""
    session = completed_session()
    sheet = aftercare_sheet_issue(session=session, by=front_desk)

    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            aftercare_sheet_email(sheet=sheet, by=front_desk)
            assert mail.outbox == []
    assert mail.outbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
    sheet.refresh_from_db()
    assert sheet.emailed_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_mail_server_is_spoken_to_with_no_transaction_open_and_no_row_locked(front_desk_client, monkeypatch):
    """A slow mail server must never hold a row lock: while the message is handed over, this connection is in
    autocommit with no transaction open (so it holds no lock), and the sheet row can be locked by anyone."""
    from django.core.mail.backends.locmem import EmailBackend

    session = completed_session()
    seen = []
    original = EmailBackend.send_messages

    def send_messages(self, messages):
        seen.append((connection.in_atomic_block, connection.get_autocommit()))
        with transaction.atomic():  # another writer can take the sheet's row lock at once (NOWAIT)
            AftercareSheet.objects.select_for_update(nowait=True).filter(session=session).exists()
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    response = front_desk_client.post(reverse("plans:aftercare_email", args=[session.pk]), follow=True)

    assert response.status_code == 200 and "emailed to the patient" in response.content.decode()
    assert seen == [(False, True)] and len(mail.outbox) == 1
    assert AftercareSheet.objects.get(session=session).emailed_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_refuses_gives_a_message_and_records_nothing(front_desk_client, monkeypatch):
    import smtplib

    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    session = completed_session()

    response = front_desk_client.post(reverse("plans:aftercare_email", args=[session.pk]), follow=True)

    assert response.status_code == 200
    assert ERR_MAIL_FAILED in response.content.decode()
    assert AftercareSheet.objects.get(session=session).emailed_at is None


def test_email_refused_for_a_session_not_done(front_desk_client):
    session = completed_session(status="planned")

    response = front_desk_client.post(reverse("plans:aftercare_email", args=[session.pk]), follow=True)

    assert ERR_NOT_COMPLETED in response.content.decode()
    assert mail.outbox == []


def test_email_ignores_an_offsite_next(front_desk_client):
    session = completed_session()

    response = front_desk_client.post(
        reverse("plans:aftercare_email", args=[session.pk]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("plans:aftercare", args=[session.pk])


def test_email_is_post_only(front_desk_client):
    session = completed_session()

    assert front_desk_client.get(reverse("plans:aftercare_email", args=[session.pk])).status_code == 405
