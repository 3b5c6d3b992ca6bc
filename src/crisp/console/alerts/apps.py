from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "crisp.console.alerts"
    label = "alerts"
    verbose_name = "Alerting"
