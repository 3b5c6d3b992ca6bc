"""Permission questions, asked in one place by the API, the pages and the admin."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import QuerySet

from crisp.console.accounts.models import EDIT_ROLES, Membership, Role, Team, TeamDatabase

# Django types request.user loosely; the console uses the stock User model.
AnyUser = User | AbstractBaseUser | AnonymousUser


def _user_id(user: AnyUser) -> int | None:
    """The primary key of a signed-in user, None for anonymous visitors."""
    pk = user.pk if user.is_authenticated else None
    return int(pk) if pk is not None else None


def is_superuser(user: AnyUser) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_superuser", False))


def readable_databases(user: AnyUser) -> frozenset[str] | None:
    """Database names the user may read; None means all (superusers)."""
    if is_superuser(user):
        return None
    uid = _user_id(user)
    if uid is None:
        return frozenset()
    names = TeamDatabase.objects.filter(team__memberships__user_id=uid).values_list(
        "database", flat=True
    )
    return frozenset(names)


def can_read_database(user: AnyUser, database: str) -> bool:
    allowed = readable_databases(user)
    return allowed is None or database in allowed


def visible_teams(user: AnyUser) -> QuerySet[Team]:
    if is_superuser(user):
        return Team.objects.all()
    uid = _user_id(user)
    if uid is None:
        return Team.objects.none()
    return Team.objects.filter(memberships__user_id=uid).distinct()


def can_edit_team(user: AnyUser, team: Team) -> bool:
    if is_superuser(user):
        return True
    uid = _user_id(user)
    if uid is None:
        return False
    return Membership.objects.filter(user_id=uid, team=team, role__in=EDIT_ROLES).exists()


def can_admin_team(user: AnyUser, team: Team) -> bool:
    """Team admins (and superusers) manage the team's write tokens."""
    if is_superuser(user):
        return True
    uid = _user_id(user)
    if uid is None:
        return False
    return Membership.objects.filter(user_id=uid, team=team, role=Role.ADMIN).exists()
