"""Django settings built from Crisp's :class:`~crisp.core.settings.Settings`.

Django wants a settings module; Crisp reads its configuration in one place only, so
the console configures Django by hand (``settings.configure``) from a ``Settings``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dj_database_url

from crisp.core.settings import Settings

PACKAGE_DIR = Path(__file__).resolve().parent
SECRET_KEY_FILE = "console-secret-key"  # noqa: S105  # a file name
SQLITE_FILE = "console.sqlite3"


@dataclass
class ConsoleOptions:
    """What the console's own code needs beyond Django's settings (``settings.CRISP``)."""

    backend_factory: Callable[[], Any]  # () -> explore.backend.MetricsBackend
    latency_measurement: str = "api_latency"
    latency_field: str = "duration_ms"
    latency_service_tag: str = "service"
    default_database: str = "metrics"
    # Drill-down order after the service tag; a service page's breakdowns.
    breakdown_tags: tuple[str, ...] = ("endpoint", "host")
    # (measurement, field) the services pages sum for request counts; None: count points.
    request_counter: tuple[str, str] | None = ("http_requests", "count")
    # The collector's write tokens, which the console's write-token API rewrites.
    write_tokens_file: Path | None = None
    _backend: Any = field(default=None, repr=False, compare=False)

    def close_backend(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def metrics_backend(self) -> Any:
        """The backend, built on first use: in ``crisp serve`` storage starts first."""
        if self._backend is None:
            self._backend = self.backend_factory()
        return self._backend


def database_config(settings: Settings) -> dict[str, Any]:
    url = settings.database_url or f"sqlite:///{(settings.data_dir / SQLITE_FILE).resolve()}"
    # psycopg 3 understands "postgres://"; dj-database-url maps every alias to the backend.
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    if config["ENGINE"].endswith("sqlite3"):
        # Several threads serve an ASGI console; wait for the write lock instead of failing.
        config.setdefault("OPTIONS", {})["timeout"] = 20
        # WAL: readers (console pages) no longer block the alert worker's writes, and a
        # commit appends to the log instead of an fsync'd rollback journal per
        # transaction; synchronous=NORMAL stays crash-safe in WAL mode (a power cut may
        # lose the last commits, never corrupt). Measured by `crisp bench alerts`.
        config["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"
        config["CONN_MAX_AGE"] = 0
    return config


def resolve_secret_key(settings: Settings) -> str:
    """CRISP_SECRET_KEY, or a key generated once and kept beside the data (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: when two processes race, one creates the file and the other reads it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def django_settings(
    settings: Settings, *, secret_key: str, options: ConsoleOptions
) -> dict[str, Any]:
    """Every Django setting of the console, as keyword arguments for ``configure``."""
    return {
        "DEBUG": settings.debug,
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": settings.allowed_hosts.split(","),
        "INSTALLED_APPS": [
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "rest_framework",
            "drf_spectacular",
            "drf_spectacular_sidecar",
            "crisp.console.accounts",
            "crisp.console.explore",
            "crisp.console.dashboards",
            "crisp.console.alerts",
        ],
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ],
        "ROOT_URLCONF": "crisp.console.urls",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [str(PACKAGE_DIR / "templates")],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        "DATABASES": {"default": database_config(settings)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "STATIC_URL": "/static/",
        "STATICFILES_DIRS": [str(PACKAGE_DIR / "static")],
        "LOGIN_URL": "/login/",
        "LOGIN_REDIRECT_URL": "/",
        "LOGOUT_REDIRECT_URL": "/login/",
        # Crisp configures logging itself (crisp.core.logging); Django must not replace it.
        "LOGGING_CONFIG": None,
        "REST_FRAMEWORK": {
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "crisp.console.accounts.auth.APITokenAuthentication",
                "rest_framework.authentication.SessionAuthentication",
            ],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
            "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
            "EXCEPTION_HANDLER": "crisp.console.errors.api_exception_handler",
            "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
        },
        "SPECTACULAR_SETTINGS": {
            "TITLE": "Crisp console API",
            "DESCRIPTION": "Structured metric queries, metadata, latency, dashboards.",
            "VERSION": "1",
            "SERVE_INCLUDE_SCHEMA": False,
            # Swagger UI and ReDoc from the sidecar package: the console works offline.
            "SWAGGER_UI_DIST": "SIDECAR",
            "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
            "REDOC_DIST": "SIDECAR",
        },
        "CRISP": options,
    }


def options_from(settings: Settings, backend_factory: Callable[[], Any]) -> ConsoleOptions:
    return ConsoleOptions(
        backend_factory=backend_factory,
        latency_measurement=settings.latency_measurement,
        latency_field=settings.latency_field,
        latency_service_tag=settings.latency_service_tag,
        default_database=settings.console_default_db,
        breakdown_tags=tuple(settings.latency_breakdown_tags.split(",")),
        request_counter=request_counter(settings.request_counter),
        write_tokens_file=settings.write_tokens_file,
    )


def request_counter(text: str) -> tuple[str, str] | None:
    """CRISP_REQUEST_COUNTER (``measurement.field``, checked by Settings) as a pair."""
    if not text:
        return None
    measurement, _, name = text.rpartition(".")
    return measurement, name


def configure(settings: Settings, backend_factory: Callable[[], Any] | None = None) -> None:
    """Configure and set up Django once per process.

    ``backend_factory`` gives the metrics backend (called lazily, once); by default
    InfluxQL over HTTP to CRISP_METRICS_URL, or this machine's storage API.
    """
    import django
    from django.conf import settings as django_conf

    from crisp.console.generics import enable_django_generics, enable_drf_generics

    if backend_factory is None:
        backend_factory = http_backend_factory(settings)
    django_conf.configure(
        **django_settings(
            settings,
            secret_key=resolve_secret_key(settings),
            options=options_from(settings, backend_factory),
        )
    )
    enable_django_generics()
    django.setup()
    enable_drf_generics()


def http_backend_factory(settings: Settings) -> Callable[[], Any]:
    def factory() -> Any:
        from crisp.console.explore.backend import HTTPBackend

        return HTTPBackend(
            settings.metrics_url or settings.listen.url,
            token=settings.metrics_token,
            timeout=settings.metrics_timeout,
        )

    return factory
