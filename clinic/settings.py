"""Settings for Clinic, read from the environment (see README "Configuration").

Development defaults are safe for a laptop; with DEBUG off the server refuses to start without SECRET_KEY.
"""

import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from clinic.env import env_bool, env_dates, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
# Build and housekeeping commands sign nothing, so a build step (collectstatic in an image, a migration check)
# needs no secret; serving, migrating and everything else does.
_KEYLESS_COMMANDS = {"collectstatic", "compilemessages", "makemessages", "makemigrations", "permission_matrix", "help"}
_keyless = len(sys.argv) > 1 and Path(sys.argv[0]).name == "manage.py" and sys.argv[1] in _KEYLESS_COMMANDS
if not SECRET_KEY:
    if not DEBUG and not _keyless:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set SECRET_KEY to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or DEBUG=1 for development."
        )
    SECRET_KEY = "dev-or-build-only-insecure-key-never-used-to-serve-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "simple_history",
    "axes",
    "pgtrigger",  # append-only clinical history on PostgreSQL (clinic/appendonly.py)
    "clinic",
    "patients",
    "plans",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "clinic.middleware.SessionIdleMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

# --- Database: embedded SQLite unless DATABASE_URL says otherwise (PostgreSQL in production) ---
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", default=True),
    )
}
# No transaction per request: each service owns the transaction of its write (transaction.atomic with
# select_for_update), so a failed write leaves nothing behind and reads pay for no BEGIN/COMMIT.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout so the dev server and a management command can share the file. Every transaction
    # begins IMMEDIATE, taking the write lock at BEGIN: two concurrent writes (two tabs booking the same slot)
    # then take turns, waiting up to `timeout` seconds, and the second sees the first's rows and gets the
    # service's message. A DEFERRED transaction that read first fails its write at once ("database is locked",
    # which no timeout helps) when another has written meanwhile.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: local memory by default; set CACHE_URL-like REDIS_URL to share between app servers ---
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "clinic.cache.ReusedClientRedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Keep each user's permissions in the cache between requests (clinic/backends.py). Only where the cache is
# shared by every worker and server (Redis): a per-process cache could not be told when a role changes.
PERMISSION_CACHE = env_bool("PERMISSION_CACHE", default=bool(REDIS_URL))
# Rendered fragments of the patient page, the plan page and the day calendar, kept under the version of the rows they show
# (clinic/fragments.py, clinic/datachanges.py): PostgreSQL only, where triggers keep those versions. A fragment
# is dropped after FRAGMENT_CACHE_SECONDS whatever happens, so patient data does not linger in the cache.
FRAGMENT_CACHE = env_bool("FRAGMENT_CACHE", default=True)
FRAGMENT_CACHE_SECONDS = env_int("FRAGMENT_CACHE_SECONDS", 600)

# --- Authentication, sessions, lockout ---
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "clinic.backends.RolePermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Sessions live in the database (and in the shared Redis cache when REDIS_URL is set, so most requests read
# them without touching PostgreSQL); any app server behind the load balancer can serve any request.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# Sliding expiry: clinic.middleware.SessionIdleMiddleware pushes the expiry forward at most this often.
SESSION_TOUCH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)

# --- Internationalisation; the clinic's own time zone ---
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static and media ---
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Clinical photos live under MEDIA_ROOT, which is never served directly: a view checks the role first.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_MB", 10) * 1024 * 1024
# Largest image accepted (photos, scanned consents, drawn signatures), judged from its header before any pixel
# is decoded (clinic/uploads.py): a small file can claim enough pixels to tie up a worker for half a minute.
PHOTO_MAX_MEGAPIXELS = env_int("PHOTO_MAX_MEGAPIXELS", 40)
if PHOTO_MAX_MEGAPIXELS < 1:
    raise ImproperlyConfigured(f"PHOTO_MAX_MEGAPIXELS must be at least 1, got {PHOTO_MAX_MEGAPIXELS}")
DATA_UPLOAD_MAX_MEMORY_SIZE = PHOTO_MAX_BYTES + 1024 * 1024

# --- Email (Django 6.1 MAILERS). EMAIL_BACKEND=console prints mail instead of sending it. ---
_EMAIL_BACKEND = env_str("EMAIL_BACKEND", "console" if DEBUG else "smtp")
if _EMAIL_BACKEND == "smtp":
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env_str("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", default=False),
                "timeout": 20,
            },
        }
    }
elif _EMAIL_BACKEND == "console":
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    raise ImproperlyConfigured(f"EMAIL_BACKEND must be 'smtp' or 'console', got {_EMAIL_BACKEND!r}")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "clinic@example.com")

# --- Security headers (check --deploy clean when DEBUG is off) ---
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# No inline scripts or styles anywhere: everything comes from our own static files.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# --- Forms ---
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Logging: no patient identifiers in the application log (see clinic/logging.py) ---
# Every handler masks calendar-feed tokens in what it prints (clinic/logmask.py). Django's own "django" and
# "django.server" loggers are given our handlers instead of its defaults, which would print paths unmasked.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_secrets": {"()": "clinic.logmask.MaskSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_secrets"]},
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["mask_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
    },
}

# --- The clinic itself ---
CLINIC_NAME = env_str("CLINIC_NAME", "Clinic")
CLINIC_PHONE = env_str("CLINIC_PHONE", "+44 20 7946 0000")
CLINIC_ADDRESS = env_str("CLINIC_ADDRESS", "")
# Base of the clinic's own FHIR system URIs (MRN identifiers, score and modality CodeSystems), plans/fhir/ids.py.
CLINIC_FHIR_BASE = env_str("CLINIC_FHIR_BASE", "https://clinic.example.org/fhir")
# Bulk FHIR exports (manage.py export_fhir --out) that managers may download: one directory per export.
FHIR_EXPORT_DIR = Path(env_str("FHIR_EXPORT_DIR", str(BASE_DIR / "exports" / "fhir")))
PAGE_SIZE = env_int("PAGE_SIZE", 25)
# The patient list counts and pages through at most this many matches; past it, it asks for a narrower search.
PATIENT_LIST_MAX = env_int("PATIENT_LIST_MAX", 500)

# Thresholds the domain reference tags [U] (uncertain): settings, not constants. Keys are the fields of
# plans.rules.RuleConfig; values given here override its defaults (see plans/config.py).
CLINIC_RULES = {
    "isotretinoin_wait_months": env_int("RULE_ISOTRETINOIN_WAIT_MONTHS", 6),  # S27 [U]
    "screening_max_age_days": env_int("RULE_SCREENING_MAX_AGE_DAYS", 30),
    "recent_tan_days": env_int("RULE_RECENT_TAN_DAYS", 14),  # S35, S31
    "window_before_days": env_int("RULE_WINDOW_BEFORE_DAYS", 3),
    "window_after_days": env_int("RULE_WINDOW_AFTER_DAYS", 7),
    "late_cancel_hours": env_int("RULE_LATE_CANCEL_HOURS", 24),
    "hydroquinone_max_continuous_months": env_int("RULE_HYDROQUINONE_MAX_MONTHS", 6),  # S39, S40
    "triple_combination_max_weeks": env_int("RULE_TRIPLE_COMBINATION_MAX_WEEKS", 8),  # S36, S78 [U]
    "pregnancy_questions_last_age": env_int("RULE_PREGNANCY_QUESTIONS_LAST_AGE", 55),
}
# Outcomes registry and reporting clock (plans/rules/outcomes.py, OutcomeConfig): [U] thresholds as settings.
CLINIC_OUTCOMES = {
    "responder_reduction_percent": env_int("RULE_RESPONDER_REDUCTION_PERCENT", 50),  # S13, S20 [U]
    "relapse_percent_of_baseline": env_int("RULE_RELAPSE_PERCENT_OF_BASELINE", 50),  # S16, S78 [U]
    "min_group_size": env_int("OUTCOMES_MIN_GROUP_SIZE", 5),
    "followup_tolerance_days": env_int("RULE_FOLLOWUP_TOLERANCE_DAYS", 21),
    "ae_report_business_days": env_int("RULE_AE_REPORT_BUSINESS_DAYS", 15),  # S58
    "holidays": env_dates("CLINIC_HOLIDAYS"),
}
# A week ahead: the reminder lists the topicals to pause and from when, and the longest usual pause is 7 days
# (S35, S70), so an earlier reminder would name a start date already past.
REMINDER_DAYS_BEFORE = env_int("REMINDER_DAYS_BEFORE", 7)

# axes.W006 asks to also lock by IP address. We lock the *account* (username) whatever the address, which is
# stricter: rotating addresses or proxies does not reset the count, and behind a load balancer every client
# may share one address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
