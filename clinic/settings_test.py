"""Settings for the test suite: the production settings, with a throwaway key and plain-HTTP test servers."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-key-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from clinic.settings import *  # noqa: E402,F401,F403

# Serve static files from the source folders, as in development (no collectstatic before tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# The suite runs in one process, so its local-memory cache is shared by every request: permissions are cached as
# in production with Redis, and every role-ladder test also checks that a changed role is never served stale.
PERMISSION_CACHE = True
