"""Secrets in addresses never reach a server log.

A clinician's calendar feed is `/calendar/<token>.ics`: calendar apps cannot sign in, so the token in the path
*is* the credential. Whoever reads a log line holding it can read that clinician's diary. Every log that prints
request paths masks it here, in one place:
- gunicorn's access log: `logger_class = "clinic.logmask.GunicornLogger"` in gunicorn.conf.py;
- Django's own request lines (runserver's `django.server`) and its 4xx/5xx warnings (`django.request`,
  e.g. "Not Found: /calendar/<old token>.ics"): the `MaskSecretsFilter` on every handler in settings.LOGGING.

Importable without Django settings (gunicorn loads the logger class before the app)."""

import logging
import re

MASK = "[hidden]"
# The feed route in plans/views/scheduling.py ("calendar/<str:token>.ics"). The whole path segment after
# /calendar/ is masked, with or without ".ics" (a mistyped or retired token is still a token), except the one
# fixed page under it, /calendar/regenerate/.
_FEED_TOKEN = re.compile(r"(/calendar/)(?!regenerate(?:[/?#\s\"']|$))[^/?#\s\"']+", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """`text` with every calendar-feed token replaced by [hidden]."""
    if "/calendar/" not in text.lower():
        return text
    return _FEED_TOKEN.sub(rf"\g<1>{MASK}", text)


class MaskSecretsFilter(logging.Filter):
    """Rewrites a record's message with the secrets masked (the formatted message, so secrets passed as
    %-arguments are caught too). Attached to handlers, it covers every logger that reaches them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is a production dependency; the demo and tests may run without it
    _GunicornLogger = None

if _GunicornLogger is not None:

    class GunicornLogger(_GunicornLogger):
        """gunicorn's logger with every access-log atom masked: the path (%(U)s), the request line (%(r)s),
        the query string, the referer, and any header or environ value a format might name."""

        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            return {key: mask_secrets(value) if isinstance(value, str) else value for key, value in atoms.items()}
