"""API routes of this app, mounted under /api/v1/; `skus/` too, the catalog's SKUs with their stock."""

from rest_framework.routers import DefaultRouter

from stock.api import views, views_inbound

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("skus", views.SKUStockViewSet, basename="sku")
router.register("warehouses", views.WarehouseViewSet, basename="warehouse")
router.register("stock/levels", views.StockLevelViewSet, basename="stocklevel")
router.register("stock/movements", views.MovementViewSet, basename="stockmovement")
router.register("stock/adjustments", views.AdjustmentViewSet, basename="adjustment")
router.register("stock/transfers", views.TransferViewSet, basename="transfer")
router.register("stock/state-moves", views.StateMoveViewSet, basename="statemove")
router.register("stock/reservations", views.ReservationViewSet, basename="reservation")
router.register("stock/inbound", views_inbound.InboundShipmentViewSet, basename="inboundshipment")
router.register("stock/reorder-suggestions", views_inbound.ReorderSuggestionViewSet, basename="reordersuggestion")

urlpatterns = router.urls
