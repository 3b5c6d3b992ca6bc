"""URL map of the console: pages, /api/ (DRF, OpenAPI schema and its UI), /admin/."""

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


def health(_: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "pass"})


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="explore", permanent=False), name="home"),
    path("health", health, name="health"),
    path("", include("crisp.console.accounts.urls")),
    path("", include("crisp.console.explore.urls")),
    path("", include("crisp.console.dashboards.urls")),
    path("", include("crisp.console.alerts.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("crisp.console.explore.api.urls")),
    path("api/", include("crisp.console.dashboards.api.urls")),
    path("api/", include("crisp.console.accounts.api.urls")),
    path("api/", include("crisp.console.alerts.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
