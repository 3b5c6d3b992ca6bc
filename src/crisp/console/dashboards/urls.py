from django.urls import path

from crisp.console.dashboards.views import dashboard_detail, dashboard_list

urlpatterns = [
    path("dashboards/", dashboard_list, name="dashboards"),
    path("dashboards/<int:pk>/", dashboard_detail, name="dashboard"),
]
