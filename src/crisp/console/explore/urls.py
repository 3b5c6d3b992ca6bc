from django.urls import path

from crisp.console.explore.views import explore

urlpatterns = [path("explore/", explore, name="explore")]
