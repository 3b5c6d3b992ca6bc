from django.urls import path

from crisp.console.dashboards.views import dashboard_list

urlpatterns = [path("dashboards/", dashboard_list, name="dashboards")]
