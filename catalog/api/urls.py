"""API routes of this app, mounted under /api/v1/."""
from rest_framework.routers import DefaultRouter

from catalog.api.views import CategoryViewSet, ProductViewSet, SKUViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register("skus", SKUViewSet, basename="sku")

urlpatterns = router.urls
