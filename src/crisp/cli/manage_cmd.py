"""``crisp manage ARGS``: any Django management command, with Crisp's settings.

E.g. ``crisp manage migrate``, ``crisp manage createsuperuser --noinput`` (Django reads
DJANGO_SUPERUSER_USERNAME/PASSWORD/EMAIL), ``crisp manage create_api_token USERNAME``.
"""

from __future__ import annotations

import argparse

from crisp.cli.options import add_setting_flags
from crisp.core.settings import Settings

HELP = "run a Django management command of the console (migrate, createsuperuser, ...)"
SETTINGS = (
    "data_dir",
    "database_url",
    "secret_key",
    "metrics_url",
    "metrics_token",
    "log_format",
    "log_level",
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_setting_flags(parser, SETTINGS)
    parser.add_argument(
        "manage_args",
        nargs=argparse.REMAINDER,
        metavar="COMMAND [ARGS]",
        help="the management command and its arguments (`crisp manage help` lists them)",
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    from crisp.console.conf import configure as configure_django

    configure_django(settings)
    try:
        execute_from_command_line(["crisp manage", *(args.manage_args or ["help"])])
    except SystemExit as stop:
        # Django exits on errors; hand its status to our caller instead of exiting here.
        return stop.code if isinstance(stop.code, int) else 1
    return 0
