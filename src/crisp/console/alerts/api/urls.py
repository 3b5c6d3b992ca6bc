from django.urls import path
from rest_framework.routers import SimpleRouter

from crisp.console.alerts.api import views

router = SimpleRouter()
router.register("alerts/rules", views.RuleViewSet, basename="alertrule")
router.register("alerts/channels", views.ChannelViewSet, basename="alertchannel")
router.register("alerts/silences", views.SilenceViewSet, basename="alertsilence")
router.register("alerts/instances", views.InstanceViewSet, basename="alertinstance")
router.register("alerts/history", views.TransitionViewSet, basename="alerttransition")
router.register("alerts/notifications", views.NotificationViewSet, basename="alertnotification")
urlpatterns = [
    path("alerts/import/", views.ImportView.as_view(), name="alerts-import"),
    path("alerts/export/", views.ExportView.as_view(), name="alerts-export"),
    path("alerts/preview/", views.PreviewView.as_view(), name="alerts-preview"),
    path("alerts/routes/", views.RoutesView.as_view(), name="alerts-routes"),
    *router.urls,
]
