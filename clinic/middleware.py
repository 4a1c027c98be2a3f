"""Sliding session expiry without a database write on every request."""

import time

from django.conf import settings

TOUCH_KEY = "_touched"


class SessionIdleMiddleware:
    """Staff are signed out after SESSION_IDLE_MINUTES without a request. Saving the session on every request
    would do that too (SESSION_SAVE_EVERY_REQUEST), at the price of a write per page; instead the expiry is
    pushed forward at most once every SESSION_TOUCH_SECONDS, so the idle limit is kept to within that."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty() and "_auth_user_id" in session:
            now = int(time.time())
            if now - session.get(TOUCH_KEY, 0) >= settings.SESSION_TOUCH_SECONDS:
                session[TOUCH_KEY] = now  # marks the session modified: saved with a fresh expiry
        return response

