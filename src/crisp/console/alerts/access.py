"""Who may see and change alerting: members of the owning team read; editors write."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework.exceptions import PermissionDenied

from crisp.console.accounts.access import AnyUser, can_edit_team, can_read_database, visible_teams
from crisp.console.accounts.models import Team


def access_teams_by_user(user: AnyUser) -> QuerySet[Team]:
    return visible_teams(user)


def require_editor(user: AnyUser, team: Team) -> None:
    if not can_edit_team(user, team):
        raise PermissionDenied(f"only editors and admins of team {team.name!r} may do this")


def require_database(user: AnyUser, database: str) -> None:
    """A rule reads its database as the worker, so its author must be able to read it."""
    if not can_read_database(user, database):
        raise PermissionDenied(f"no access to database {database!r}")
