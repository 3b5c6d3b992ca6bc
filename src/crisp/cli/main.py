"""Entry point of the ``crisp`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType

from crisp import __version__
from crisp.cli import (
    alerts_cmd,
    bench_cmd,
    collector_cmd,
    config_cmd,
    console_cmd,
    consume_cmd,
    manage_cmd,
    serve_cmd,
    storage_cmd,
    worker_cmd,
)
from crisp.cli.options import settings_from_args
from crisp.core.logging import configure_logging
from crisp.core.settings import SettingError, Settings

# Exit status for usage and configuration errors, as argparse uses.
EXIT_USAGE = 2


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Settings, argparse.Namespace], int]


def _command(name: str, module: ModuleType) -> Command:
    return Command(name, module.HELP, module.configure, module.run)


# Only commands that work are listed; each later component adds its own.
COMMANDS: tuple[Command, ...] = (
    _command("serve", serve_cmd),
    _command("storage", storage_cmd),
    _command("collector", collector_cmd),
    _command("config", config_cmd),
    _command("bench", bench_cmd),
    _command("console", console_cmd),
    _command("manage", manage_cmd),
    _command("consume", consume_cmd),
    _command("alerts", alerts_cmd),
    _command("worker", worker_cmd),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crisp",
        description="Crisp: metrics collection, storage, console and alerting.",
    )
    parser.add_argument("--version", action="version", version=f"crisp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command_parser = sub.add_parser(command.name, help=command.help, description=command.help)
        command.configure(command_parser)
        command_parser.set_defaults(_command=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except SettingError as error:
        print(f"crisp: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings)
    command: Command = args._command
    return command.run(settings, args)


if __name__ == "__main__":
    sys.exit(main())
