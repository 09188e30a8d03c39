"""The framework floor for B1: a bare DRF endpoint that returns a constant list of 100 dicts.

It runs behind the same middleware, token authentication, throttle and envelope
renderer as the product's endpoints, but touches no table except the token lookup, so
the gap between it and `GET /api/v1/skus/?size=100` is what the list itself costs.
Mounted only by `bench.urls` (settings `bench.settings`), never by the product.
"""

from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

FLOOR_ROWS = [
    {
        "id": i,
        "sku_code": f"FLOOR-{i:05d}",
        "product_id": i // 4 + 1,
        "price": "19.99",
        "attributes": {"color": "red", "size": "M"},
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
    }
    for i in range(1, 101)
]


class FloorView(APIView):
    """`GET` answers the same 100 dicts every time."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(FLOOR_ROWS)
