"""django-import-export resources for the catalog admin (CSV and XLSX).

Rows are matched by their natural keys (a category by its path, a product by name
within its category path, a SKU by code) and written through `catalog.services`, so
an import obeys the same rules as the API: the cells are only read here (text, JSON),
the values are checked by the services. A refused row becomes a row error; the admin
then shows the errors and imports nothing (the import runs in one transaction).
"""

import json

from django.core.exceptions import ValidationError
from django.utils.encoding import force_str
from django.utils.html import format_html
from import_export import fields, resources
from import_export.results import RowResult

from catalog import services
from catalog.models import SKU, Category, Product
from inventory_site.exceptions import DomainError
from inventory_site.refusals import refusal_sentence
from inventory_site.validators import PATH_SEPARATOR


def _cell(row, name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value).strip()


def _attributes(row, name: str = "attributes") -> dict:
    text = _cell(row, name)
    if not text:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError({name: f"Not valid JSON: {exc.msg}."}) from exc
    except (ValueError, RecursionError) as exc:  # an integer of over 4,300 digits; nesting
        raise ValidationError({name: "Not valid JSON: a number too long or nesting too deep."}) from exc


def _split_path(path: str) -> list[str]:
    parts = [p.strip() for p in path.split(PATH_SEPARATOR)]
    if not path or any(not p for p in parts):
        raise ValidationError({"path": f"{path!r} is not a category path like Electronics/Phones."})
    return parts


def _category_by_path(path: str, column: str) -> Category:
    category = Category.objects.filter(path__iexact=PATH_SEPARATOR.join(_split_path(path))).first()
    if category is None:
        raise ValidationError({column: f"No active category {path!r}."})
    return category


def _category_or_error(path: str, column: str) -> Category | ValidationError:
    try:
        return _category_by_path(path, column)
    except ValidationError as exc:
        return exc


def _row_error(exc: DomainError) -> ValidationError:
    """A refused write as the row's error in words (never a dict)."""
    return ValidationError(refusal_sentence(exc))


class JSONField(fields.Field):
    """A JSON object cell, exported compactly."""

    def get_value(self, obj):
        return json.dumps(super().get_value(obj) or {}, ensure_ascii=False, sort_keys=True)


class ChangeDiff(resources.Diff):
    """The preview's cells: a changed value as the whole old value struck through, an arrow and
    the whole new value (not a character diff, where "39.90" -> "35.00" read "39.95.00")."""

    def __init__(self, resource, instance, new):
        super().__init__(resource, instance, new)
        resource.last_diff = self

    @property
    def changed(self) -> bool:
        return self.left != self.right

    def as_html(self):
        cells = []
        for old, new in zip(self.left, self.right, strict=True):
            old, new = force_str(old), force_str(new)
            if self.new or old == new:
                cells.append(format_html("{}", new))
            else:
                cells.append(
                    format_html(
                        '<del class="old">{}</del> <span class="change-arrow">→</span> <ins class="new">{}</ins>',
                        old or "(empty)",
                        new or "(empty)",
                    )
                )
        return cells


class ServiceResource(resources.ModelResource):
    """Rows are saved through services; domain errors become row validation errors.

    Lookups of rows that the import does not write (a SKU file's categories and products, a
    product file's categories) are kept for the import: a file of 50,000 SKUs of a few products
    finds each product once. The services still check and lock what they write."""

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._lookups = {}

    def looked_up(self, key: tuple, find):
        """`find()` once per key during one import."""
        lookups = self.__dict__.setdefault("_lookups", {})
        if key not in lookups:
            lookups[key] = find()
        return lookups[key]

    def category_by_path(self, path: str, column: str) -> Category:
        """The category of a path cell (for the resources that do not create categories)."""
        category = self.looked_up(("category", path), lambda: _category_or_error(path, column))
        if isinstance(category, ValidationError):
            raise ValidationError(category.message_dict)  # a new one each row: the import adds to it
        return category

    def save_instance(self, instance, is_create, row, **kwargs):
        try:
            saved = self.write(instance, is_create, row, user=kwargs.get("user"))
        except DomainError as exc:
            raise _row_error(exc) from exc
        instance.__dict__.update(saved.__dict__)

    def write(self, instance, is_create, row, *, user):  # pragma: no cover - overridden
        raise NotImplementedError

    def get_diff_class(self):
        return ChangeDiff

    def import_row(self, row, instance_loader, **kwargs):
        self.last_diff = None
        result = super().import_row(row, instance_loader, **kwargs)
        if result.import_type == RowResult.IMPORT_TYPE_UPDATE and self.last_diff and not self.last_diff.changed:
            result.import_type = RowResult.IMPORT_TYPE_SKIP  # shown as "Unchanged"
        # save_instance runs after validate_instance; its ValidationError is caught by
        # import_row as a generic error: show it as a validation error of the row.
        for error in list(result.errors):
            if isinstance(error.error, ValidationError):
                result.errors.remove(error)
                result.import_type = result.IMPORT_TYPE_INVALID
                result.validation_error = error.error
        return result

    def import_instance(self, instance, row, **kwargs):
        pass  # each resource reads its row in `before_save`

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return False


class CategoryResource(ServiceResource):
    """Categories by path: `path`, `description`, `attributes`. Parents come before children."""

    path = fields.Field(attribute="path", column_name="path")
    description = fields.Field(attribute="description", column_name="description")
    attributes = JSONField(attribute="attributes", column_name="attributes")

    class Meta:
        model = Category
        fields = ("path", "description", "attributes")
        import_id_fields = ("path",)
        skip_unchanged = False

    def get_queryset(self):
        return Category.objects.order_by("tree_id", "lft")

    def get_instance(self, instance_loader, row):
        parts = _split_path(_cell(row, "path"))
        return Category.objects.filter(path__iexact=PATH_SEPARATOR.join(parts)).first()

    def import_instance(self, instance, row, **kwargs):
        instance.description = _cell(row, "description")
        instance.attributes = _attributes(row)

    def write(self, instance, is_create, row, *, user):
        parts = _split_path(_cell(row, "path"))
        data = {"description": instance.description, "attributes": instance.attributes}
        if not is_create:
            return services.category_update(category_id=instance.pk, user=user, **data)
        parent = _category_by_path(PATH_SEPARATOR.join(parts[:-1]), "path") if len(parts) > 1 else None
        return services.category_create(name=parts[-1], parent_id=parent.pk if parent else None, user=user, **data)


class ProductResource(ServiceResource):
    """Products by name within a category path: `category_path`, `name`, `description`, `attributes`."""

    category_path = fields.Field(attribute="category__path", column_name="category_path")
    name = fields.Field(attribute="name", column_name="name")
    description = fields.Field(attribute="description", column_name="description")
    attributes = JSONField(attribute="attributes", column_name="attributes")

    class Meta:
        model = Product
        fields = ("category_path", "name", "description", "attributes")
        import_id_fields = ("category_path", "name")
        skip_unchanged = False

    def get_queryset(self):
        return Product.objects.select_related("category").order_by("pk")

    def get_instance(self, instance_loader, row):
        category = self.category_by_path(_cell(row, "category_path"), "category_path")
        return Product.objects.filter(category=category, name__iexact=_cell(row, "name")).first()

    def import_instance(self, instance, row, **kwargs):
        instance.category = self.category_by_path(_cell(row, "category_path"), "category_path")
        instance.name = _cell(row, "name")
        instance.description = _cell(row, "description")
        instance.attributes = _attributes(row)

    def write(self, instance, is_create, row, *, user):
        data = {"name": instance.name, "description": instance.description, "attributes": instance.attributes}
        if is_create:
            return services.product_create(category_id=instance.category_id, user=user, **data)
        return services.product_update(product_id=instance.pk, user=user, **data)


class SKUResource(ServiceResource):
    """SKUs by code: `sku_code`, `product` (name), `category_path`, `price`, `attributes`."""

    sku_code = fields.Field(attribute="sku_code", column_name="sku_code")
    category_path = fields.Field(attribute="product__category__path", column_name="category_path")
    product = fields.Field(attribute="product__name", column_name="product")
    price = fields.Field(attribute="price", column_name="price")
    attributes = JSONField(attribute="attributes", column_name="attributes")
    backorder_policy = fields.Field(attribute="backorder_policy", column_name="backorder_policy")

    class Meta:
        model = SKU
        fields = ("sku_code", "category_path", "product", "price", "attributes", "backorder_policy")
        import_id_fields = ("sku_code",)
        skip_unchanged = False

    def get_queryset(self):
        return SKU.objects.select_related("product__category").order_by("pk")

    def get_instance(self, instance_loader, row):
        code = _cell(row, "sku_code")
        # An empty code names no SKU: the row creates one, which the service refuses.
        return SKU.all_objects.with_code(code).first() if code else None

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        category = self.category_by_path(_cell(row, "category_path"), "category_path")
        name = _cell(row, "product")
        product = self.looked_up(
            ("product", category.pk, name.casefold()),
            lambda: Product.objects.filter(category=category, name__iexact=name).select_related("category").first(),
        )
        if product is None:
            errors["product"] = f"No active product {_cell(row, 'product')!r} in {category.path}."
        else:
            instance.product = product
        # The cell as written (an XLSX number as its shortest text): `sku_create`/`sku_update` check it.
        instance.price = _cell(row, "price")
        instance.sku_code = instance.sku_code or _cell(row, "sku_code")
        instance.attributes = _attributes(row)
        # An absent or empty column keeps the SKU's policy (a new SKU: `deny`); the service checks the value.
        instance.import_backorder_policy = _cell(row, "backorder_policy") or None
        if errors:
            raise ValidationError(errors)

    def write(self, instance, is_create, row, *, user):
        data = {"price": instance.price, "attributes": instance.attributes}
        if instance.import_backorder_policy is not None:
            data["backorder_policy"] = instance.import_backorder_policy
        if is_create:
            saved = services.sku_create(sku_code=instance.sku_code, product_id=instance.product_id, user=user, **data)
        else:
            saved = services.sku_update(sku_id=instance.pk, product_id=instance.product_id, user=user, **data)
        if saved.product_id == instance.product_id and Product.category.is_cached(instance.product):
            # The preview's `category_path` of the saved SKU: the category this import looked up, not a query per row.
            saved.product.category = instance.product.category
        return saved


class ProductSKUExportResource(resources.ModelResource):
    """Export only: the exported products with their SKUs and prices, one row per active SKU,
    in the columns of `import_catalog` (so the file loads back with the command)."""

    category_path = fields.Field(attribute="product__category__path", column_name="category_path")
    product_name = fields.Field(attribute="product__name", column_name="product_name")
    product_description = fields.Field(attribute="product__description", column_name="product_description")
    product_attributes = JSONField(attribute="product__attributes", column_name="product_attributes")
    sku_code = fields.Field(attribute="sku_code", column_name="sku_code")
    price = fields.Field(attribute="price", column_name="price")
    attributes = JSONField(attribute="attributes", column_name="attributes")

    class Meta:
        model = SKU
        name = "Products with their SKUs and prices (one row per SKU)"
        fields = (
            "category_path",
            "product_name",
            "product_description",
            "product_attributes",
            "sku_code",
            "price",
            "attributes",
        )

    @staticmethod
    def skus_of(queryset):
        """The active SKUs of the exported products (the rows of this export)."""
        if queryset is None or queryset.model is Product:
            products = Product.objects.all() if queryset is None else queryset
            queryset = (
                SKU.objects.filter(product__in=products.values("pk"))  # type: ignore[misc]  # a subquery
                .select_related("product__category")
                .order_by("product__category__path", "product__name", "sku_code")
            )
        return queryset

    def export_rows_count(self, queryset) -> int:
        """The rows an export of these products writes (for the admin's background export threshold)."""
        return self.skus_of(queryset).count()

    def export(self, queryset=None, **kwargs):
        return super().export(queryset=self.skus_of(queryset), **kwargs)
