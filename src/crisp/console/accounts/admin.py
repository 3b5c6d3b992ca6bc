from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from crisp.console.accounts.models import APIToken, Membership, Team, TeamDatabase
from crisp.console.accounts.tokens import PREFIX_LENGTH, hash_token, new_token


class MembershipInline(admin.TabularInline[Membership, Team]):
    model = Membership
    extra = 1
    autocomplete_fields = ("user",)


class TeamDatabaseInline(admin.TabularInline[TeamDatabase, Team]):
    model = TeamDatabase
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}  # noqa: RUF012  # Django's declared shape
    inlines = (MembershipInline, TeamDatabaseInline)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("user", "team", "role")
    list_filter = ("role", "team")


@admin.register(TeamDatabase)
class TeamDatabaseAdmin(admin.ModelAdmin[TeamDatabase]):
    list_display = ("team", "database")
    list_filter = ("team",)


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin[APIToken]):
    list_display = ("prefix", "user", "name", "created", "last_used", "expires")
    readonly_fields = ("prefix", "created", "last_used")
    fields = ("user", "name", "expires", "prefix", "created", "last_used")

    def save_model(self, request: HttpRequest, obj: APIToken, form: Any, change: bool) -> None:
        if not change:
            # Shown once, in this message; only the hash is stored.
            token = new_token()
            obj.prefix, obj.key_hash = token[:PREFIX_LENGTH], hash_token(token)
            messages.warning(
                request, f"New API token (copy it now, it is not shown again): {token}"
            )
        super().save_model(request, obj, form, change)
