from django.apps import AppConfig


class ExploreConfig(AppConfig):
    name = "crisp.console.explore"
    label = "explore"
    verbose_name = "Explore: metric queries and metadata"
