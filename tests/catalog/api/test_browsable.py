"""The browsable API (session login, HTML) renders the catalog endpoints without errors."""

import pytest

from tests.catalog.factories import SKUFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/categories/",
        "/api/v1/categories/{c}/",
        "/api/v1/categories/tree/",
        "/api/v1/categories/{c}/ancestors/",
        "/api/v1/categories/{c}/descendants/",
        "/api/v1/products/",
        "/api/v1/products/{p}/",
        "/api/v1/skus/",
        "/api/v1/skus/{s}/",
    ],
)
def test_html_pages_render(client, superuser, path):
    sku = SKUFactory()
    client.force_login(superuser)
    url = path.format(c=sku.product.category_id, p=sku.product_id, s=sku.pk)
    response = client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"&quot;status&quot;: &quot;success&quot;" in response.content or b'"status": "success"' in response.content
