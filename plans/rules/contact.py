"""Whether the clinic may email a patient: reminders, aftercare PDFs, the buttons that offer them."""

EMAIL_NO_ADDRESS = "no_address"
EMAIL_NO_CONSENT = "no_consent"


def email_refusal(email: str | None, email_consent: bool) -> str | None:
    """Why the patient may not be emailed (EMAIL_NO_ADDRESS / EMAIL_NO_CONSENT), or None when we may.

    Consent without an address, or an address without consent, both mean a phone call or paper instead.
    """
    if not (email or "").strip():
        return EMAIL_NO_ADDRESS
    if not email_consent:
        return EMAIL_NO_CONSENT
    return None


def may_email(email: str | None, email_consent: bool) -> bool:
    return email_refusal(email, email_consent) is None
