"""API routes of this app, mounted under /api/v1/.

`skus/` is routed by the app that extends `SKUViewSet` with its own figures (see
`inventory_site/urls.py`), so that one route serves SKUs.
"""

from rest_framework.routers import DefaultRouter

from catalog.api.views import CategoryViewSet, ProductViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")

urlpatterns = router.urls
