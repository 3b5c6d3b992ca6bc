"""A Django settings module for tools that insist on one (mypy's django plugin).

Built from Crisp's defaults with a throwaway key; the running console never imports
it: ``crisp console`` and ``crisp manage`` call :func:`crisp.console.conf.configure`.
"""

from crisp.console.conf import ConsoleOptions, django_settings, http_backend_factory
from crisp.console.conf import options_from as _options_from
from crisp.core.settings import Settings as _Settings

_defaults = _Settings()
globals().update(
    django_settings(
        _defaults,
        secret_key="static-analysis-only",  # noqa: S106  # never serves a request
        options=_options_from(_defaults, http_backend_factory(_defaults)),
    )
)

# Set by the update above; declared so the type checker knows `settings.CRISP`.
CRISP: ConsoleOptions

# The django plugin runs django.setup(), which imports our admin modules.
__import__("django_stubs_ext").monkeypatch()
