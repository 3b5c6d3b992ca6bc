"""Who may see which databases and edit what.

A user belongs to teams with a role; a team is granted databases by name. Users see
the databases granted to any of their teams; superusers see everything.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "viewer: reads the team's databases and dashboards"
    EDITOR = "editor", "editor: also edits the team's dashboards"
    ADMIN = "admin", "admin: also manages the team"


# Roles allowed to change a team's dashboards.
EDIT_ROLES = frozenset({Role.EDITOR, Role.ADMIN})


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("user", "team"), name="one_membership_per_team"),
        )

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class TeamDatabase(models.Model):
    """Grants a team read access to a storage database, by name."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="databases")
    database = models.CharField(max_length=256)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("team", "database"), name="one_grant_per_database"),
        )
        ordering = ("database",)

    def __str__(self) -> str:
        return f"{self.team} → {self.database}"


class APIToken(models.Model):
    """A bearer token for the API; only its SHA-256 is stored, the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    # The first characters, kept so people can tell their tokens apart in lists.
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    expires = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created",)
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class StorageDatabase(models.Model):
    """A database on storage, as the platform team manages it from the admin.

    Saving creates it on storage and deleting drops it there, through the metrics
    backend (``accounts.storage``); the admin's list is refreshed from storage, so
    databases made elsewhere (a client's ``CREATE DATABASE``) show up too.
    """

    name = models.CharField(max_length=256, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)
        verbose_name = "storage database"

    def __str__(self) -> str:
        return self.name


class StorageRetentionPolicy(models.Model):
    """A retention policy of a storage database; saved on storage first, then here."""

    database = models.ForeignKey(
        StorageDatabase, on_delete=models.CASCADE, related_name="retention_policies"
    )
    name = models.CharField(max_length=256)
    duration = models.CharField(
        max_length=32, default="INF", help_text="how long points are kept: 30d, 12h, 4w or INF"
    )
    shard_duration = models.CharField(
        max_length=32,
        blank=True,
        help_text="time span of one shard group: 1d, 1h …; empty: storage's default",
    )
    replication = models.PositiveSmallIntegerField(default=1)
    default = models.BooleanField(
        default=False, help_text="writes and queries naming no policy use this one"
    )

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("database", "name"), name="one_policy_name_per_db"),
        )
        ordering = ("database__name", "name")
        verbose_name = "storage retention policy"
        verbose_name_plural = "storage retention policies"

    def __str__(self) -> str:
        return f"{self.database}.{self.name}"


class WriteToken(models.Model):
    """A token the collector accepts for writes to some databases (a tenant's).

    Only its SHA-256 is kept; the clear token is shown once. The collector reads the
    tokens from CRISP_WRITE_TOKENS_FILE, which the console rewrites on every change
    (``accounts.write_tokens``).
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="write_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    databases = models.JSONField(help_text="database names (or, for superusers, patterns)")
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("team__name", "name")
        constraints = (
            models.UniqueConstraint(fields=("team", "name"), name="one_write_token_name_per_team"),
        )

    def __str__(self) -> str:
        return f"{self.team.slug}/{self.name}"
