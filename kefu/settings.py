"""Kefu settings, read from environment variables.

SQLite is the embedded default (``make demo``); production sets DATABASE_URL to
PostgreSQL. See README for the production variables.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str = "False") -> bool:
    return os.environ.get(name, default).lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = envbool("DEBUG", "False")
# The development default starts with "django-insecure-", so `check --deploy` flags a deployment without one.
SECRET_KEY = os.environ.get("SECRET_KEY", "django-insecure-kefu-development-key-change-me-in-production")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SITE_ROOT = os.environ.get("SITE_ROOT", "http://127.0.0.1:8000")
DATA_DIR = Path(os.environ.get("KEFU_DATA_DIR", BASE_DIR / "var"))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "kefu.core",
    "kefu.people",
    "kefu.uniforms",
    "kefu.procurement",
    "kefu.service",
    "kefu.evaluations",
    "kefu.annual",
    "kefu.inspections",
    "kefu.integrations",
    "kefu.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kefu.core.middleware.LoginRequiredMiddleware",
    # Last, so that a locked-out login is answered before the view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kefu.urls"
WSGI_APPLICATION = "kefu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kefu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kefu.core.context_processors.shell",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Connection reuse in production; 0 closes after each request.
        conn_max_age=envint("DB_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
if os.environ.get("TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DB_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Directory login (LDAP / Active Directory; kefu/integrations/ldap_settings.py lists the variables).
# After ModelBackend: local accounts log in first, and still do while the directory is down.
if os.environ.get("KEFU_LDAP_URI"):
    from kefu.integrations.ldap_settings import BACKEND as _LDAP_BACKEND
    from kefu.integrations.ldap_settings import ldap_settings as _ldap_settings

    globals().update(_ldap_settings(os.environ))
    AUTHENTICATION_BACKENDS.append(_LDAP_BACKEND)
# Chat bots (kefu/integrations/chat.py): tries per message, first backoff (doubling), HTTP timeout.
KEFU_CHAT_MAX_ATTEMPTS = envint("KEFU_CHAT_MAX_ATTEMPTS", 5)
KEFU_CHAT_BACKOFF_SECONDS = float(os.environ.get("KEFU_CHAT_BACKOFF_SECONDS", 30))
KEFU_CHAT_TIMEOUT_SECONDS = float(os.environ.get("KEFU_CHAT_TIMEOUT_SECONDS", 10))
# HR sync drop folder (manage.py hr_sync): CSV files in, moved to done/ or failed/ with a report.
KEFU_HR_SYNC_DIR = os.environ.get("KEFU_HR_SYNC_DIR", "")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:workbench"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failed logins (django-axes), per user name and per address.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_MINUTES", 15) / 60  # hours
# Two separate lockouts (axes: each list item is its own rule): a user name that keeps failing is locked
# whatever the address, and an address that keeps failing is locked whatever the names it tries.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind nginx every request comes from the proxy: the client is the address it appends to
# X-Forwarded-For (KEFU_PROXY_COUNT trusted proxies), else the per-address lockout would lock
# everybody at once (kefu/core/client_ip.py).
KEFU_PROXY_COUNT = envint("AXES_PROXY_COUNT", 1) if envbool("BEHIND_PROXY") else 0
AXES_CLIENT_IP_CALLABLE = "kefu.core.client_ip.client_ip"

# Idle session timeout: the cookie is renewed on every request.
SESSION_COOKIE_AGE = envint("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "False")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "True")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY") else None
# With secure cookies a plain-HTTP request is redirected to HTTPS (nginx normally does it first).
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", str(SESSION_COOKIE_SECURE))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# An intranet host name cannot be on the browsers' HSTS preload list, so the "preload" directive
# (check security.W021) is pointless; HSTS itself is on whenever SECURE_HSTS_SECONDS is set.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "zh-hant"
LANGUAGES = [
    ("zh-hant", "繁體中文"),
    ("zh-hans", "简体中文"),
    ("en", "English"),
]
LOCALE_PATHS = [BASE_DIR / "kefu" / "locale"]
TIME_ZONE = os.environ.get("KEFU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "kefu_language"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "kefu" / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
KEFU_UPLOAD_MAX_BYTES = envint("KEFU_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
# The CJK font of the printable forms (fpdf2 embeds a subset): a .ttf/.otf, or a .ttc collection
# (Debian's fonts-noto-cjk), whose face is KEFU_PDF_FONT_INDEX or, when unset, the one for the
# language (Noto Sans CJK: 2 = SC, 3 = TC).
KEFU_PDF_FONT = os.environ.get("KEFU_PDF_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
KEFU_PDF_FONT_INDEX: int | None = envint("KEFU_PDF_FONT_INDEX", 0) if os.environ.get("KEFU_PDF_FONT_INDEX") else None

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kefu@localhost")

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Content-Security-Policy: everything from our own origin, no inline scripts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

NINJA_PAGINATION_PER_PAGE = 100

# SLA alerts (kefu/service/alerts.py, `manage.py sla_alerts` from cron): warn this many working
# minutes before a deadline; breaches older than this many days are left to the backlog figures.
KEFU_SLA_ALERT_WORKING_MINUTES = envint("KEFU_SLA_ALERT_WORKING_MINUTES", 30)
KEFU_SLA_ALERT_LOOKBACK_DAYS = envint("KEFU_SLA_ALERT_LOOKBACK_DAYS", 7)

# The work calendar (kefu/core/calendar.py) is cached per process; another process's change is
# seen within this many seconds (the process that made it sees it at once).
KEFU_CALENDAR_CHECK_SECONDS: float | None = float(os.environ.get("KEFU_CALENDAR_CHECK_SECONDS", 5))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

if "pytest" in __import__("sys").modules:
    # Tests log in hundreds of people; a slow hasher only costs time there.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # No timed calendar re-checks mid-test (query counts stay fixed); the calendar services and the
    # autouse fixture in conftest.py drop the cached calendar instead.
    KEFU_CALENDAR_CHECK_SECONDS = None
