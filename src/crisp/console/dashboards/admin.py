from django.contrib import admin

from crisp.console.dashboards.models import Dashboard


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin[Dashboard]):
    list_display = ("title", "team", "updated")
    list_filter = ("team",)
    search_fields = ("title",)
