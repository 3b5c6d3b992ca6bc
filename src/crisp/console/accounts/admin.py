from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from crisp.console.accounts import storage, write_tokens
from crisp.console.accounts.models import (
    APIToken,
    Membership,
    StorageDatabase,
    StorageRetentionPolicy,
    Team,
    TeamDatabase,
    WriteToken,
)
from crisp.console.accounts.tokens import PREFIX_LENGTH, hash_token, new_token
from crisp.console.explore.backend import BackendError


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


# ---------------------------------------------------------------- storage databases
# Storage changes first (the form's last check, so a refusal shows on the form and
# nothing is saved here), then the local row; lists are refreshed from storage.


class StorageDatabaseForm(forms.ModelForm[StorageDatabase]):
    class Meta:
        model = StorageDatabase
        fields = ("name",)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and not self.errors:
            try:
                storage.do_create_database(data["name"])
            except BackendError as error:
                raise forms.ValidationError(f"storage refused: {error.message}") from None
        return data


class StorageRetentionPolicyForm(forms.ModelForm[StorageRetentionPolicy]):
    class Meta:
        model = StorageRetentionPolicy
        fields = ("database", "name", "duration", "shard_duration", "replication", "default")

    def _duration(self, name: str, *, allow_infinite: bool) -> str:
        text = str(self.cleaned_data.get(name) or "").strip()
        if not text and not allow_infinite:
            return ""
        try:
            ns = storage.parse_policy_duration(text, allow_infinite=allow_infinite)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        return storage.format_policy_duration(ns)

    def clean_duration(self) -> str:
        return self._duration("duration", allow_infinite=True)

    def clean_shard_duration(self) -> str:
        return self._duration("shard_duration", allow_infinite=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        policy = StorageRetentionPolicy(
            name=data.get("name") or self.instance.name,
            duration=data["duration"],
            shard_duration=data.get("shard_duration", ""),
            replication=data["replication"],
            default=data["default"],
        )
        database = data.get("database") or self.instance.database
        spec = storage.PolicySpec.of(policy, database.name)
        try:
            if self.instance.pk is None:
                storage.do_create_retention_policy(spec)
            else:
                storage.do_alter_retention_policy(spec)
        except BackendError as error:
            raise forms.ValidationError(f"storage refused: {error.message}") from None
        return data


def _sync(request: HttpRequest) -> None:
    try:
        storage.do_sync_from_storage()
    except BackendError as error:
        messages.error(request, f"could not read databases from storage: {error.message}")


class RetentionPolicyInline(admin.TabularInline[StorageRetentionPolicy, StorageDatabase]):
    model = StorageRetentionPolicy
    fields = ("name", "duration", "shard_duration", "replication", "default")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # added on their own page, which creates them on storage


@admin.register(StorageDatabase)
class StorageDatabaseAdmin(admin.ModelAdmin[StorageDatabase]):
    form = StorageDatabaseForm
    list_display = ("name", "created")
    search_fields = ("name",)
    inlines = (RetentionPolicyInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("name",) if obj is not None else ()  # storage cannot rename a database

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        _sync(request)
        return super().changelist_view(request, extra_context)

    def delete_model(self, request: HttpRequest, obj: StorageDatabase) -> None:
        try:
            storage.do_drop_database(obj.name)
        except BackendError as error:
            messages.error(request, f"storage refused to drop {obj.name!r}: {error.message}")
            return
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[StorageDatabase]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(StorageRetentionPolicy)
class StorageRetentionPolicyAdmin(admin.ModelAdmin[StorageRetentionPolicy]):
    form = StorageRetentionPolicyForm
    list_display = ("database", "name", "duration", "shard_duration", "replication", "default")
    list_filter = ("database",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("database", "name") if obj is not None else ()

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        _sync(request)
        return super().changelist_view(request, extra_context)

    def save_model(
        self, request: HttpRequest, obj: StorageRetentionPolicy, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if obj.default:
            # Storage keeps one default per database; so does the mirror.
            StorageRetentionPolicy.objects.filter(database=obj.database).exclude(pk=obj.pk).update(
                default=False
            )

    def delete_model(self, request: HttpRequest, obj: StorageRetentionPolicy) -> None:
        try:
            storage.do_drop_retention_policy(obj.database.name, obj.name)
        except BackendError as error:
            messages.error(request, f"storage refused to drop {obj}: {error.message}")
            return
        super().delete_model(request, obj)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[StorageRetentionPolicy]
    ) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


# ---------------------------------------------------------------- collector write tokens


class WriteTokenForm(forms.ModelForm[WriteToken]):
    class Meta:
        model = WriteToken
        fields = ("team", "name", "databases", "expires")

    def clean_databases(self) -> list[str]:
        value = self.cleaned_data["databases"]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(d, str) and d for d in value)
        ):
            raise forms.ValidationError('a JSON list of database names, e.g. ["payments"]')
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            write_tokens.tokens_file()
        except write_tokens.WriteTokensNotConfigured as error:
            raise forms.ValidationError(str(error)) from None
        return data


@admin.register(WriteToken)
class WriteTokenAdmin(admin.ModelAdmin[WriteToken]):
    form = WriteTokenForm
    list_display = ("name", "team", "prefix", "databases", "created", "expires")
    list_filter = ("team",)
    readonly_fields = ("prefix", "created")

    def save_model(self, request: HttpRequest, obj: WriteToken, form: Any, change: bool) -> None:
        if not change:
            # Shown once, in this message; only the hash is stored.
            token = new_token()
            obj.prefix, obj.key_hash = token[:PREFIX_LENGTH], hash_token(token)
            messages.warning(
                request, f"New write token (copy it now, it is not shown again): {token}"
            )
        super().save_model(request, obj, form, change)
        write_tokens.write_tokens_file(write_tokens.tokens_file())

    def delete_model(self, request: HttpRequest, obj: WriteToken) -> None:
        super().delete_model(request, obj)
        write_tokens.write_tokens_file(write_tokens.tokens_file())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WriteToken]) -> None:
        super().delete_queryset(request, queryset)
        write_tokens.write_tokens_file(write_tokens.tokens_file())
