from rest_framework.routers import SimpleRouter

from crisp.console.accounts.api.views import APITokenViewSet, TeamViewSet, WriteTokenViewSet

router = SimpleRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("tokens", APITokenViewSet, basename="apitoken")
router.register("write-tokens", WriteTokenViewSet, basename="writetoken")
urlpatterns = router.urls
