from django.urls import path

from crisp.console.explore.views import explore, service, services

urlpatterns = [
    path("explore/", explore, name="explore"),
    path("services/", services, name="services"),
    path("services/<path:name>/", service, name="service"),
]
