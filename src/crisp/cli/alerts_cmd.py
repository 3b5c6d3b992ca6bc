"""``crisp alerts import FILE`` / ``crisp alerts export``: a team's alerting as a YAML file.

Importing upserts channels and rules by name (the same file twice updates, never
duplicates) and replaces the team's routes when the file has a ``routes`` section.
Validation problems are printed one per line, naming the rule and the field, and the
exit status is 1; nothing is written then.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crisp.cli.options import add_setting_flags
from crisp.core.settings import Settings
from crisp.core.yaml_text import dump_yaml, load_yaml

if TYPE_CHECKING:
    from crisp.console.accounts.models import Team

HELP = "import or export alert rules, channels and routes (YAML) of a console team"
SETTINGS = ("data_dir", "database_url", "secret_key", "log_format", "log_level")
EXIT_INVALID = 1


def configure(parser: argparse.ArgumentParser) -> None:
    add_setting_flags(parser, SETTINGS)
    actions = parser.add_subparsers(dest="alerts_action", metavar="ACTION", required=True)
    load = actions.add_parser("import", help="import an alert file into a team")
    load.add_argument("file", type=Path, help="the YAML file ('-' reads standard input)")
    load.add_argument("--team", required=True, help="team slug or name")
    dump = actions.add_parser("export", help="print a team's alerting as an alert file")
    dump.add_argument("--team", required=True, help="team slug or name")
    dump.add_argument("--output", "-o", type=Path, help="write here instead of stdout")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from django.conf import settings as django_settings
    from django.core.management import call_command
    from django.db.models import Q

    from crisp.console.conf import configure as configure_django

    if not django_settings.configured:  # already so when called inside the console's tests
        configure_django(settings)
    # Models can be imported only once Django is configured.
    from crisp.console.accounts.models import Team

    call_command("migrate", interactive=False, verbosity=0)
    team = Team.objects.filter(Q(slug=args.team) | Q(name=args.team)).first()
    if team is None:
        print(f"crisp alerts: no team {args.team!r}", file=sys.stderr)
        return EXIT_INVALID
    if args.alerts_action == "import":
        return _import(team, args.file)
    return _export(team, args.output)


def _import(team: Team, path: Path) -> int:
    from crisp.alerting.rules import AlertFileError, load_alert_file
    from crisp.console.alerts.actions import MissingSecret, do_import_alert_file
    from crisp.console.alerts.models import Channel

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as error:
        print(f"crisp alerts: cannot read {path}: {error.strerror}", file=sys.stderr)
        return EXIT_INVALID
    known = list(Channel.objects.filter(team=team).values_list("name", flat=True))
    try:
        alert_file = load_alert_file(text, known)
    except AlertFileError as error:
        print(f"crisp alerts: {path}: {len(error.errors)} problem(s):", file=sys.stderr)
        for problem in error.errors:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_INVALID
    has_routes = "routes" in (load_yaml(text) or {})
    try:
        summary = do_import_alert_file(team, alert_file, has_routes)
    except MissingSecret as error:
        print(f"crisp alerts: {path}: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(f"imported {path} into team {team}: {summary}")
    return 0


def _export(team: Team, output: Path | None) -> int:
    from crisp.console.alerts.actions import export_document

    text = dump_yaml(export_document(team), sort_keys=False, allow_unicode=True)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    return 0
