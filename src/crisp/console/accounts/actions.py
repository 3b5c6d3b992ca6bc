"""State changes of accounts (``do_*``); views and commands validate, then call these."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User

from crisp.console.accounts.models import APIToken, Membership, Role, Team, TeamDatabase
from crisp.console.accounts.tokens import PREFIX_LENGTH, hash_token, new_token


def do_create_api_token(
    user: User, name: str = "", expires: datetime | None = None
) -> tuple[APIToken, str]:
    """The stored token and its clear text, which exists only in this return value."""
    token = new_token()
    record = APIToken.objects.create(
        user=user,
        name=name,
        prefix=token[:PREFIX_LENGTH],
        key_hash=hash_token(token),
        expires=expires,
    )
    return record, token


def do_add_member(team: Team, user: User, role: str = Role.VIEWER) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        team=team, user=user, defaults={"role": role}
    )
    return membership


def do_grant_database(team: Team, database: str) -> TeamDatabase:
    grant, _ = TeamDatabase.objects.get_or_create(team=team, database=database)
    return grant
