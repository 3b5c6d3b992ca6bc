from django.urls import path

from crisp.console.explore.api import views

urlpatterns = [
    path("query/", views.QueryView.as_view(), name="api-query"),
    path("meta/databases/", views.DatabasesView.as_view(), name="api-meta-databases"),
    path("meta/measurements/", views.MeasurementsView.as_view(), name="api-meta-measurements"),
    path("meta/tags/", views.TagKeysView.as_view(), name="api-meta-tags"),
    path("meta/tag-values/", views.TagValuesView.as_view(), name="api-meta-tag-values"),
    path("meta/fields/", views.FieldKeysView.as_view(), name="api-meta-fields"),
    path("services/", views.ServicesView.as_view(), name="api-services"),
    path("services/<path:service>/", views.ServiceDetailView.as_view(), name="api-service"),
    path("metrics/latency/", views.LatencyView.as_view(), name="api-metrics-latency"),
]
