from django.contrib import admin

from crisp.console.alerts import models


@admin.register(models.AlertRule)
class AlertRuleAdmin(admin.ModelAdmin[models.AlertRule]):
    list_display = ("name", "team", "enabled", "last_eval_at", "last_error")
    list_filter = ("team", "enabled")
    search_fields = ("name",)
    readonly_fields = ("last_eval_at", "last_eval_seconds", "lease_owner", "lease_until")


@admin.register(models.Channel)
class ChannelAdmin(admin.ModelAdmin[models.Channel]):
    list_display = ("name", "type", "team", "last_success_at", "last_failure_at")
    list_filter = ("team", "type")
    # Settings hold sealed secrets; editing them here would store clear text.
    readonly_fields = ("settings", "last_error", "last_success_at", "last_failure_at")


@admin.register(models.Route)
class RouteAdmin(admin.ModelAdmin[models.Route]):
    list_display = ("team", "position")


@admin.register(models.Silence)
class SilenceAdmin(admin.ModelAdmin[models.Silence]):
    list_display = ("team", "starts_at", "ends_at", "comment", "created_by")
    list_filter = ("team",)


@admin.register(models.AlertInstance)
class AlertInstanceAdmin(admin.ModelAdmin[models.AlertInstance]):
    list_display = ("rule", "tags", "state", "value")
    list_filter = ("state",)


@admin.register(models.AlertTransition)
class AlertTransitionAdmin(admin.ModelAdmin[models.AlertTransition]):
    list_display = ("rule", "tags", "from_state", "to_state", "at", "value", "silenced")
    list_filter = ("to_state",)


@admin.register(models.NotificationLog)
class NotificationLogAdmin(admin.ModelAdmin[models.NotificationLog]):
    list_display = ("channel_name", "status", "ok", "attempts", "created")
    list_filter = ("ok", "status")
