"""Sliding session expiry without a database write on every request."""

import time

from django.conf import settings
from django.db import transaction

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


class AtomicWritesMiddleware:
    """Every request that may write (POST, PUT, PATCH, DELETE) runs its view in one transaction, as
    ATOMIC_REQUESTS would: a failed save leaves the database as it was. Reads (GET, HEAD, OPTIONS) run without
    one: under READ COMMITTED each statement sees committed rows either way, and a read no longer pays the
    BEGIN and COMMIT round trips. The few rows a read writes (access log, an aftercare sheet issued on first
    print) are written by services that open their own transaction. Must be the last middleware, so that
    every other middleware's process_view has run before the view."""

    READS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in self.READS:
            return None
        with transaction.atomic():
            return view_func(request, *view_args, **view_kwargs)
