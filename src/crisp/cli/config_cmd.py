"""``crisp config``: print the effective configuration, secrets hidden."""

from __future__ import annotations

import argparse

from crisp.cli.options import add_setting_flags
from crisp.core.settings import Settings

HELP = "print the effective configuration (flags > CRISP_* environment > defaults)"


def configure(parser: argparse.ArgumentParser) -> None:
    add_setting_flags(parser, Settings.names())


def run(settings: Settings, args: argparse.Namespace) -> int:
    items = list(settings.display_items())
    width = max(len(env) for env, _ in items)
    for env, value in items:
        print(f"{env.ljust(width)}  {value}")
    return 0
