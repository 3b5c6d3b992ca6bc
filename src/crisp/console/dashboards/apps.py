from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "crisp.console.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards"
