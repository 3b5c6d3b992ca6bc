from django.urls import path

from crisp.console.explore.views import explore, services

urlpatterns = [
    path("explore/", explore, name="explore"),
    path("services/", services, name="services"),
]
