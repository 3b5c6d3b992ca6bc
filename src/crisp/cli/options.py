"""Turn :class:`~crisp.core.settings.Settings` into command-line flags and back.

Each command names the settings it takes; every one becomes a flag whose help shows
its environment variable and default, so ``crisp <command> --help`` documents all.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping, Sequence

from crisp.core.settings import Settings, load_settings


def add_setting_flags(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    defaults = Settings()
    group = parser.add_argument_group("settings (flag > environment variable > default)")
    for name in names:
        secret = Settings.describe(name)[2]
        default = "hidden" if secret else str(getattr(defaults, name))
        group.add_argument(
            Settings.flag_name(name),
            dest=f"setting_{name}",
            metavar=name.upper(),
            default=None,
            help=_setting_help(name, default),
        )


def add_setting_alias(
    parser: argparse.ArgumentParser, alias: str, name: str, metavar: str | None = None
) -> None:
    """``alias`` and the setting's own flag, both setting ``name``: a command's main
    setting reads naturally short (``crisp collector --listen``), the long name works
    too, as everywhere else."""
    default = str(getattr(Settings(), name))
    parser.add_argument(
        alias,
        Settings.flag_name(name),
        dest=f"setting_{name}",
        metavar=metavar or name.upper(),
        default=None,
        help=_setting_help(name, default or None),
    )


def _setting_help(name: str, default: str | None) -> str:
    help_text, expects, _ = Settings.describe(name)
    shown = f"; default {default}" if default is not None else ""
    return f"{help_text} Env {Settings.env_name(name)}; expects {expects}{shown}."


def settings_from_args(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> Settings:
    """Raises SettingError naming the flag or variable on a bad value."""
    flags = {f.name: getattr(args, f"setting_{f.name}", None) for f in dataclasses.fields(Settings)}
    return load_settings(environ, flags)
