"""The console as one ASGI app: static files (no CDN, no collectstatic step) + Django.

Django runs as a WSGI app on a thread pool (a2wsgi). Under Django's own ASGI handler
every sync view of a process shares one thread, so one slow metrics query would hold
up every page; with a pool, requests run side by side, each thread with its own
database connection.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from a2wsgi import WSGIMiddleware
from django.apps import apps
from django.core.wsgi import get_wsgi_application
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Concurrent console requests; each holds a thread while it waits on storage.
REQUEST_THREADS = 16


def static_packages() -> list[str | tuple[str, str]]:
    """Every installed app's ``static`` folder, in INSTALLED_APPS order (Django's finder
    order), so /static/ serves what ``collectstatic`` would have gathered."""
    # The project's own folder first (it is STATICFILES_DIRS, not an app).
    packages: list[str | tuple[str, str]] = [("crisp.console", "static")]
    for config in apps.get_app_configs():
        if (Path(config.path) / "static").is_dir():
            packages.append((config.module.__name__, "static"))  # type: ignore[union-attr]
    return packages


def coroutine_receive(app: ASGIApp) -> ASGIApp:
    """a2wsgi hands ``receive()`` to ``run_coroutine_threadsafe``, which needs a real
    coroutine; granian's ``receive`` returns another awaitable, so wrap it in one."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def receive_coroutine() -> Message:
            return await receive()

        await app(scope, receive_coroutine, send)

    return wrapped


def build_app() -> Starlette:
    """Needs Django configured (crisp.console.conf.configure) first."""
    django_app = WSGIMiddleware(get_wsgi_application(), workers=REQUEST_THREADS)  # type: ignore[arg-type]
    return Starlette(
        routes=[
            Mount("/static", app=StaticFiles(packages=static_packages()), name="static"),
            Mount("", app=coroutine_receive(cast(ASGIApp, django_app))),
        ]
    )
