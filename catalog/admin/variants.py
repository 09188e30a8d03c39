"""The product page's variant grid: one compact row per SKU (price, attributes, status, backorder
policy inline; stock per warehouse read-only), new variants in blank rows, and bulk edits of
the ticked rows (static/admin-ext/variant-grid.js fills the grid; "Save" keeps it).

The grid only reads the shape of what was posted. Each row the user changed goes through its
one-row service (`sku_update`, `sku_soft_delete`, `sku_restore`, `sku_create`); rows left as
they were cost nothing, so a save's queries grow with the rows changed, never with the SKUs
the product has. A price change "by an amount or a percentage" is computed by the service's
`price_after` (the `variants/price/` endpoint), never in the browser.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from catalog import services
from catalog.models import SKU, BackorderPolicy
from catalog.services.bulk_edits import price_after
from inventory_site.attributes_widget import cell_text, cell_value
from inventory_site.exceptions import DomainError, VersionConflict
from inventory_site.mixin_bases import ModelAdminMixinBase
from inventory_site.refusals import refusal_sentence
from inventory_site.templatetags.backoffice import quantity

ACTIVE, INACTIVE = "active", "inactive"
STATUSES = [(ACTIVE, "Active"), (INACTIVE, "Inactive")]
NEW_ROWS = 1  # blank rows under the SKUs; "Add a variant" adds more
MAX_NEW_ROWS = 200


class VariantsRefused(DomainError):
    """Some rows of the grid were refused; nothing of the save was kept."""

    code = "variants_refused"


@dataclass
class VariantRow:
    """One row as the grid shows it (the stored values, or what was posted)."""

    key: str  # "v-<pk>" for a SKU, "n-<i>" for a new row
    pk: int | None
    code: str
    price: str
    attributes: list[str]
    status: str = ACTIVE
    backorder_policy: str = BackorderPolicy.DENY
    version: int | None = None
    initial: str = ""
    stock: list = field(default_factory=list)
    error: str = ""
    changed: bool = False


def _state(price: str, attributes: dict, status: str, backorder_policy: str) -> dict:
    return {"price": price, "attributes": attributes, "status": status, "backorder_policy": backorder_policy}


def _stored_state(sku: SKU) -> dict:
    return _state(
        f"{sku.price:.2f}", sku.attributes or {}, INACTIVE if sku.is_deleted else ACTIVE, sku.backorder_policy
    )


class VariantGrid:
    """The variant rows of one product (or of a product being added), read from the database or
    from a POST, and saved row by row through the catalog services."""

    def __init__(self, product_id: int | None, data=None):
        self.product_id = product_id
        self.data = data
        self.skus = (
            list(SKU.all_objects.filter(product_id=product_id).order_by("is_deleted", "sku_code")) if product_id else []
        )
        self.columns = self._columns()
        self.rows = self._rows()

    def _columns(self) -> list[str]:
        if self.data is not None:
            return [self.data.get(f"attr-{i}", "").strip() for i in range(_count(self.data, "attr_columns", 50))]
        keys: dict[str, None] = {}
        for sku in self.skus:
            keys.update(dict.fromkeys(sku.attributes or {}))
        return list(keys)

    def _rows(self) -> list[VariantRow]:
        rows = []
        for sku in self.skus:
            stored = _stored_state(sku)
            row = VariantRow(
                key=f"v-{sku.pk}",
                pk=sku.pk,
                code=sku.sku_code,
                price=stored["price"],
                attributes=[cell_text(sku.attributes[k]) if k in (sku.attributes or {}) else "" for k in self.columns],
                status=stored["status"],
                backorder_policy=sku.backorder_policy,
                version=sku.version,
                initial=json.dumps(stored, sort_keys=True),
            )
            if self.data is not None:
                self._read_posted(row)
            rows.append(row)
        count = _count(self.data, "new_rows", MAX_NEW_ROWS) if self.data is not None else NEW_ROWS
        for index in range(count):
            row = VariantRow(key=f"n-{index}", pk=None, code="", price="", attributes=[""] * len(self.columns))
            if self.data is not None:
                self._read_posted(row)
            rows.append(row)
        return rows

    def _read_posted(self, row: VariantRow) -> None:
        get = self.data.get
        if row.pk is None:
            row.code = get(f"{row.key}-code", "").strip()
        row.price = get(f"{row.key}-price", row.price).strip()
        row.attributes = [get(f"{row.key}-a{i}", "") for i in range(len(self.columns))]
        row.status = get(f"{row.key}-status", row.status)
        row.backorder_policy = get(f"{row.key}-backorder_policy", row.backorder_policy)
        if row.pk is not None:
            row.version = _int(get(f"{row.key}-version"))
            row.initial = get(f"{row.key}-initial", row.initial)
            row.changed = self._posted_state(row) != _loads(row.initial)
        else:
            row.changed = bool(row.code or row.price or any(a.strip() for a in row.attributes))

    def _posted_state(self, row: VariantRow) -> dict:
        attributes = {
            key: cell_value(text)
            for key, text in zip(self.columns, row.attributes, strict=True)
            if key and text.strip()
        }
        return _state(row.price, attributes, row.status, row.backorder_policy)

    # -- saving ----------------------------------------------------------------------------
    def save(self, *, product_id: int, user) -> list[VariantRow]:
        """Write every changed row through its service, each in a savepoint; when any row is
        refused, raise `VariantsRefused` (the caller's transaction then keeps nothing)."""
        self.product_id = product_id
        changed = [row for row in self.rows if row.changed]
        for row in changed:
            try:
                with transaction.atomic():
                    self._save_row(row, user=user)
            except VersionConflict as exc:
                row.error = (
                    f"Changed by someone else since you opened this page (now version "
                    f"{exc.current_version}); reload to see their change."
                )
            except DomainError as exc:
                row.error = refusal_sentence(exc)
        refused = [row for row in changed if row.error]
        if refused:
            lines = "; ".join(f"{row.code or 'new row'}: {row.error}" for row in refused)
            raise VariantsRefused(f"{len(refused)} of the variants could not be saved ({lines}) Nothing was saved.")
        return changed

    def _save_row(self, row: VariantRow, *, user) -> None:
        state = self._posted_state(row)
        if row.pk is None:
            sku = services.sku_create(
                sku_code=row.code,
                product_id=cast(int, self.product_id),  # `save` set it
                price=row.price,
                attributes=state["attributes"],
                backorder_policy=state["backorder_policy"],
                user=user,
            )
            if state["status"] == INACTIVE:
                services.sku_soft_delete(sku_id=sku.pk, user=user)
            return
        before = _loads(row.initial)
        version = row.version
        if before.get("status") == INACTIVE and state["status"] == ACTIVE:
            version = services.sku_restore(sku_id=row.pk, user=user, expected_version=version).version
        edits = {
            name: state[name] for name in ("price", "attributes", "backorder_policy") if state[name] != before.get(name)
        }
        if edits:
            version = services.sku_update(sku_id=row.pk, user=user, expected_version=version, **edits).version
        if before.get("status") == ACTIVE and state["status"] == INACTIVE:
            services.sku_soft_delete(sku_id=row.pk, user=user, expected_version=version)

    @property
    def new_count(self) -> int:
        return sum(1 for row in self.rows if row.pk is None)


def _options(choices, selected: str) -> str:
    return "".join(
        f'<option value="{escape(value)}"{" selected" if value == selected else ""}>{escape(label)}</option>'
        for value, label in choices
    )


POLICY_LABELS = [(BackorderPolicy.DENY.value, "Deny"), (BackorderPolicy.ALLOW_INCOMING.value, "Allow incoming")]


def _stock_cell(cell) -> str:
    if cell is None:
        return '<td class="stock num"><span class="quiet">–</span></td>'
    status = "out" if cell.available <= 0 else "low" if cell.is_low else "in"
    return (
        f'<td class="stock num"><span title="{quantity(cell.on_hand)} on hand at {escape(cell.warehouse_name)}" '
        f'class="stock-status {status}">{quantity(cell.available)}</span></td>'
    )


def grid_rows_html(grid: VariantGrid) -> str:
    """The grid's rows, written here rather than by a template loop: 150 rows of a dozen inputs
    cost a template about 300 ms, this about 10."""
    out = []
    for row in grid.rows:
        key = escape(row.key)
        classes = (
            "variant-row"
            + (" variant-new" if row.pk is None else "")
            + (" inactive" if row.status == INACTIVE else "")
            + (" changed" if row.changed else "")
            + (" refused" if row.error else "")
        )
        pick = f'<input type="checkbox" class="variant-pick" aria-label="select {escape(row.code or "new row")}">'
        if row.pk is not None:
            url = reverse("admin:catalog_sku_change", args=[row.pk])
            code = (
                f'<a href="{url}">{escape(row.code)}</a><input type="hidden" name="{key}-version" '
                f'value="{row.version if row.version is not None else ""}"><input type="hidden" '
                f'name="{key}-initial" value="{escape(row.initial)}">'
            )
        else:
            code = (
                f'<input type="text" name="{key}-code" value="{escape(row.code)}" placeholder="new SKU code" '
                f'maxlength="50" aria-label="new SKU code">'
            )
        if row.error:
            code += f'<div class="variant-error">{escape(row.error)}</div>'
        attributes = "".join(
            f'<td class="attr"><input type="text" name="{key}-a{i}" value="{escape(text)}" aria-label="attribute"></td>'
            for i, text in enumerate(row.attributes)
        )
        out.append(
            f'<tr class="{classes}" data-key="{key}"><td class="pick">{pick}</td><td class="code">{code}</td>'
            f'<td class="price"><input type="text" inputmode="decimal" name="{key}-price" value="{escape(row.price)}" '
            f'aria-label="price"></td>{attributes}'
            f'<td class="status"><select name="{key}-status" aria-label="status">{_options(STATUSES, row.status)}'
            f'</select></td><td class="backorder"><select name="{key}-backorder_policy" aria-label="backorder policy">'
            f"{_options(POLICY_LABELS, row.backorder_policy)}</select></td>"
            + "".join(_stock_cell(cell) for cell in row.stock)
            + "</tr>"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def _count(data, name: str, limit: int) -> int:
    return max(0, min(_int(data.get(name)) or 0, limit))


def _int(text) -> int | None:
    return int(text) if isinstance(text, str) and text.isascii() and text.isdigit() and len(text) < 10 else None


def _loads(text: str) -> dict:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


class VariantGridMixin(ModelAdminMixinBase):
    """For the product admin: the grid in place of SKU inlines, saved through the services."""

    change_form_template = "admin/catalog/product/change_form.html"

    def variant_stock(self, grid: VariantGrid) -> tuple[list[tuple[str, str]], dict[int, list]]:
        """Read-only stock columns: `([(code, name)], {sku_id: [cell per column]})`; none in the catalog."""
        return [], {}

    def variant_grid(self, request, obj) -> VariantGrid:
        if getattr(request, "_variant_grid", None) is None:
            data = request.POST if request.method == "POST" else None
            request._variant_grid = VariantGrid(obj.pk if obj is not None else None, data)
        return request._variant_grid

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        grid = self.variant_grid(request, obj)
        warehouses, stock = self.variant_stock(grid)
        for row in grid.rows:
            row.stock = stock.get(row.pk, [None] * len(warehouses)) if row.pk else [None] * len(warehouses)
        context.update(
            {
                "variant_grid": grid,
                "variant_warehouses": warehouses,
                "variant_rows": grid_rows_html(grid),
                "variant_statuses": STATUSES,
                "variant_policies": BackorderPolicy.choices,
                "variant_price_url": reverse("admin:catalog_product_variant_price"),
                "variant_can_edit": self.has_change_permission(request, obj)
                if obj
                else self.has_add_permission(request),
                "currency": settings.CURRENCY,
            }
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self.variant_grid(request, form.instance).save(product_id=form.instance.pk, user=request.user)

    def get_urls(self):
        return [
            path(
                "variants/price/",
                self.admin_site.admin_view(self.variant_price_view),
                name="catalog_product_variant_price",
            ),
            *super().get_urls(),
        ]

    def variant_price_view(self, request):
        """`{"prices": [...]}` after a change by an amount or a percentage (`price_after`), for the grid's bulk edit."""
        if request.method != "POST" or not self.has_change_permission(request):
            return JsonResponse({"error": "Not allowed."}, status=403)
        how, value = request.POST.get("how"), request.POST.get("value", "").strip()
        try:
            by = Decimal(value)
            if not by.is_finite() or how not in ("amount", "percent"):
                raise InvalidOperation
            prices = [price_after(Decimal(p), **{how: by}) for p in request.POST.getlist("price")]
        except (InvalidOperation, ValueError):
            return JsonResponse(
                {"error": "Give a number, e.g. -5 or 10.5, and an existing price in each row."}, status=400
            )
        return JsonResponse({"prices": [f"{p:.2f}" for p in prices]})


def grid_post(product_id: int | None, changes: dict[str, Any] | None = None, *, new_rows: int = 0) -> dict[str, str]:
    """What the grid posts for a product's variants as stored, with `changes` over it (for tests and scripts)."""
    grid = VariantGrid(product_id)
    data = {"attr_columns": str(len(grid.columns)), "new_rows": str(new_rows)}
    data.update({f"attr-{i}": key for i, key in enumerate(grid.columns)})
    for row in grid.rows:
        if row.pk is None:
            continue
        data.update(
            {
                f"{row.key}-price": row.price,
                f"{row.key}-status": row.status,
                f"{row.key}-backorder_policy": row.backorder_policy,
                f"{row.key}-version": str(row.version),
                f"{row.key}-initial": row.initial,
            }
        )
        data.update({f"{row.key}-a{i}": text for i, text in enumerate(row.attributes)})
    data.update({key: str(value) for key, value in (changes or {}).items()})
    return data
