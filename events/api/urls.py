"""API routes of the events app, mounted under /api/v1/."""

from rest_framework.routers import DefaultRouter

from events.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("events", views.EventFeedViewSet, basename="event")
router.register("webhooks", views.WebhookViewSet, basename="webhooksubscription")

urlpatterns = router.urls
