from rest_framework.routers import SimpleRouter

from crisp.console.accounts.api.views import APITokenViewSet, TeamViewSet

router = SimpleRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("tokens", APITokenViewSet, basename="apitoken")
urlpatterns = router.urls
