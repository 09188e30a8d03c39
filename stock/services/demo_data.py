"""A realistic demo catalog, generated in bulk: a 3-4 level category tree, products with
colour/size SKU variants, stock in two warehouses received through `receipt`
movements, and a few active reservations.

Everything is written with `bulk_create` in batches inside one transaction, with the
mptt numbers computed here, so a million SKUs take minutes; the events of every object
written follow in the same transaction, in bulk. The output depends only on `skus` and
`seed`. Bulk writes skip `save()`: each category, product and SKU gets its initial
django-simple-history row from `history_rows_insert` ("Demo data" its reason), so its
first edit shows as a change and can be reverted.

It lives in `stock`, the app that builds on the catalog, since the demo is a catalog
with stock; the catalog knows nothing of stock.
"""
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from catalog.events import emit_bulk_writes
from catalog.models import SKU, Category, Product
from catalog.services.bulk_rows import RowWriter, allocate_ids, history_rows_insert
from catalog.services.categories import category_tree_lock
from inventory_site.exceptions import InvalidInput
from stock.events import emit_loaded_levels
from stock.models import MovementReason, Reservation, ReservationLine, StockLevel, StockMovement, Warehouse
from stock.services.reservations import ReservationRequestLine, reservation_create
from stock.services.warehouses import warehouse_create

DEMO_SKU_PREFIX = "DM-"
SECOND_WAREHOUSE = ("EAST", "East distribution centre")
PRODUCTS_PER_LEAF = 25
BATCH_PRODUCTS = 1000
BATCH_SIZE = 5000
HISTORY_REASON = "Demo data (load_demo_data)"

COLOR_CODES = {
    "Black": "BLK", "White": "WHT", "Navy": "NVY", "Grey": "GRY", "Red": "RED", "Olive": "OLV",
    "Beige": "BGE", "Blue": "BLU", "Green": "GRN", "Burgundy": "BRG", "Teal": "TEA", "Mustard": "MUS",
}
COLORS = list(COLOR_CODES)
APPAREL_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
SHOE_SIZES = [str(size) for size in range(37, 47)]
ROOM_SIZES = ["Small", "Medium", "Large"]
CAPACITIES = ["64GB", "128GB", "256GB", "512GB"]
VOLUMES = ["50ml", "100ml", "200ml"]
PAGES = ["Paperback", "Hardcover", "Ebook"]

# department: (code, sections {section: [types]}, (axis name, values), price range)
DEPARTMENTS: dict[str, tuple[str, dict[str, list[str]], tuple[str, list[str]], tuple[int, int]]] = {
    "Clothing": ("CLO", {
        "Men": ["T-Shirts", "Shirts", "Jeans", "Jackets", "Sweaters", "Shorts", "Suits", "Hoodies"],
        "Women": ["Dresses", "Blouses", "Skirts", "Jeans", "Coats", "Knitwear", "Leggings", "Jumpsuits"],
        "Kids": ["T-Shirts", "Pyjamas", "Jackets", "Trousers", "Swimwear", "Hoodies"],
        "Sportswear": ["Running Tops", "Training Shorts", "Track Jackets", "Sports Bras", "Base Layers"],
    }, ("size", APPAREL_SIZES), (9, 180)),
    "Footwear": ("SHO", {
        "Men's Shoes": ["Sneakers", "Boots", "Loafers", "Sandals", "Oxfords"],
        "Women's Shoes": ["Heels", "Flats", "Ankle Boots", "Sneakers", "Sandals"],
        "Running": ["Road Running Shoes", "Trail Running Shoes", "Racing Flats"],
        "Kids' Shoes": ["School Shoes", "Trainers", "Wellies"],
    }, ("size", SHOE_SIZES), (25, 220)),
    "Electronics": ("ELE", {
        "Phones": ["Smartphones", "Phone Cases", "Chargers", "Screen Protectors"],
        "Computers": ["Laptops", "Monitors", "Keyboards", "Mice", "Webcams"],
        "Audio": ["Headphones", "Earbuds", "Speakers", "Soundbars"],
        "Cameras": ["Action Cameras", "Lenses", "Tripods", "Memory Cards"],
        "Wearables": ["Smartwatches", "Fitness Trackers"],
    }, ("capacity", CAPACITIES), (15, 1500)),
    "Home & Kitchen": ("HOM", {
        "Cookware": ["Frying Pans", "Saucepans", "Casserole Dishes", "Knife Sets"],
        "Bedding": ["Duvet Covers", "Pillows", "Sheets", "Throws"],
        "Furniture": ["Sofas", "Coffee Tables", "Bookcases", "Office Chairs"],
        "Decor": ["Lamps", "Mirrors", "Rugs", "Vases", "Cushions"],
        "Storage": ["Baskets", "Shelving Units", "Food Containers"],
    }, ("size", ROOM_SIZES), (8, 900)),
    "Sports & Outdoors": ("SPO", {
        "Camping": ["Tents", "Sleeping Bags", "Camping Stoves", "Headlamps"],
        "Cycling": ["Helmets", "Bike Lights", "Cycling Gloves", "Bike Locks"],
        "Fitness": ["Yoga Mats", "Dumbbells", "Resistance Bands", "Kettlebells"],
        "Water Sports": ["Wetsuits", "Snorkels", "Paddle Boards"],
    }, ("size", ROOM_SIZES), (10, 600)),
    "Beauty": ("BEA", {
        "Skincare": ["Moisturisers", "Cleansers", "Serums", "Sunscreens"],
        "Haircare": ["Shampoos", "Conditioners", "Hair Oils"],
        "Fragrance": ["Eaux de Parfum", "Eaux de Toilette", "Body Mists"],
    }, ("volume", VOLUMES), (5, 140)),
    "Toys & Games": ("TOY", {
        "Building Sets": ["Construction Kits", "Marble Runs", "Magnetic Tiles"],
        "Board Games": ["Strategy Games", "Party Games", "Family Games"],
        "Outdoor Play": ["Scooters", "Kites", "Water Guns"],
        "Puzzles": ["Jigsaw Puzzles", "Brain Teasers"],
    }, ("size", ROOM_SIZES), (6, 150)),
    "Books": ("BOO", {
        "Fiction": ["Crime Novels", "Science Fiction", "Romance", "Historical Fiction"],
        "Non-Fiction": ["Biographies", "Cookbooks", "Travel Guides", "History"],
        "Children's Books": ["Picture Books", "Early Readers", "Young Adult"],
    }, ("format", PAGES), (4, 60)),
    "Garden": ("GAR", {
        "Garden Tools": ["Spades", "Pruners", "Hoses", "Wheelbarrows"],
        "Outdoor Furniture": ["Garden Chairs", "Parasols", "Loungers"],
        "Plants & Seeds": ["Seed Packets", "Bulbs", "Planters"],
    }, ("size", ROOM_SIZES), (5, 450)),
    "Office": ("OFF", {
        "Stationery": ["Notebooks", "Pens", "Desk Organisers", "Planners"],
        "Office Furniture": ["Desks", "Filing Cabinets", "Desk Lamps"],
        "Printing": ["Printers", "Ink Cartridges", "Printer Paper"],
    }, ("size", ROOM_SIZES), (3, 700)),
}
# The fourth level, used when the catalog is large enough to need it.
LINES = [
    "Essentials", "Classic", "Premium", "Eco", "Outlet", "New Arrivals", "Signature", "Heritage",
    "Urban", "Performance", "Limited Edition", "Studio", "Travel", "Pro", "Everyday", "Luxe",
    "Compact", "Vintage", "Nordic", "Coastal",
]
BRANDS = [
    "Northwind", "Alder & Co.", "Bluepeak", "Cedarline", "Driftwood", "Everly", "Foxglove", "Granite",
    "Harbour", "Ironbark", "Juniper", "Kestrel", "Larkspur", "Meridian", "Nimbus", "Oakhurst", "Pinecrest",
    "Quarry", "Redfern", "Saltmarsh", "Thistle", "Umber", "Vantage", "Willowby", "Yarrow", "Zephyr",
]
ADJECTIVES = [
    "Classic", "Relaxed", "Slim", "Lightweight", "Heavy-Duty", "Everyday", "Organic", "Recycled",
    "Compact", "Deluxe", "Essential", "Modern", "Rugged", "Soft", "Smart", "Weatherproof", "Premium",
]
KEEP_PLURAL = {"Jeans", "Shorts", "Leggings", "Trousers", "Headphones", "Earbuds", "Pyjamas", "Swimwear",
               "Knitwear", "Sportswear", "Wellies", "Science Fiction", "Romance", "History", "Young Adult"}


def _singular(plural: str) -> str:
    if plural in KEEP_PLURAL or " de " in plural:
        return plural
    for ending, replacement in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("xes", "x")):
        if plural.endswith(ending):
            return plural[: -len(ending)] + replacement
    return plural[:-1] if plural.endswith("s") and not plural.endswith("ss") else plural


@dataclass
class DemoResult:
    """Rows written by `demo_catalog_load`; `skipped` when the demo catalog was already there."""

    skipped: bool = False
    categories: int = 0
    products: int = 0
    skus: int = 0
    levels: int = 0
    movements: int = 0
    reservations: int = 0
    events: int = 0  # of the bulk writes (the reservations write their own)


@dataclass
class _Node:
    name: str
    children: dict[str, "_Node"] = field(default_factory=dict)
    department: str = ""
    product_type: str = ""
    obj: Category | None = None


def demo_catalog_exists() -> bool:
    """Whether demo SKUs are stored (deleted ones included)."""
    return SKU.all_objects.filter(sku_code__startswith=DEMO_SKU_PREFIX).exists()


def _leaf_paths(leaves_wanted: int, rng: random.Random) -> list[tuple[str, ...]]:
    types = [
        (department, section, product_type)
        for department, (_code, sections, _axis, _prices) in DEPARTMENTS.items()
        for section, product_types in sections.items()
        for product_type in product_types
    ]
    if leaves_wanted <= len(types):
        # Spread a small catalog over every department.
        by_department: dict[str, list] = {}
        for path in types:
            by_department.setdefault(path[0], []).append(path)
        picked: list[tuple[str, ...]] = []
        pools = [rng.sample(paths, len(paths)) for paths in by_department.values()]
        while len(picked) < leaves_wanted:
            for pool in pools:
                if pool and len(picked) < leaves_wanted:
                    picked.append(pool.pop())
        return sorted(picked)
    lines_per_type = min(len(LINES), math.ceil(leaves_wanted / len(types)))
    return [(*path, line) for path in types for line in LINES[:lines_per_type]]


def _build_tree(paths: list[tuple[str, ...]]) -> dict[str, _Node]:
    roots: dict[str, _Node] = {}
    for path in paths:
        level = roots
        for depth, name in enumerate(path):
            node = level.setdefault(name, _Node(name=name, department=path[0]))
            if depth >= 2:
                node.product_type = path[2]
            level = node.children
    return roots


def _number_tree(roots: dict[str, _Node], first_tree_id: int) -> list[list[Category]]:
    """Category objects per depth with their mptt numbers, siblings in name order (as mptt orders them)."""
    levels: list[list[Category]] = []

    def visit(node: _Node, parent: Category | None, depth: int, left: int, tree_id: int) -> int:
        category = Category(
            name=node.name, slug=slugify(node.name, allow_unicode=True)[:120], parent=parent,
            path=f"{parent.path}/{node.name}" if parent else node.name,
            tree_id=tree_id, level=depth, lft=left,
        )
        node.obj = category
        while len(levels) <= depth:
            levels.append([])
        levels[depth].append(category)
        right = left + 1
        for name in sorted(node.children, key=str.lower):
            right = visit(node.children[name], category, depth + 1, right, tree_id) + 1
        category.rght = right
        return right

    for index, name in enumerate(sorted(roots, key=str.lower)):
        visit(roots[name], None, 0, 1, first_tree_id + index)
    return levels


def _leaves(roots: dict[str, _Node]) -> list[_Node]:
    found: list[_Node] = []
    stack = list(roots.values())
    while stack:
        node = stack.pop()
        if node.children:
            stack.extend(node.children.values())
        else:
            found.append(node)
    return sorted(found, key=lambda n: n.obj.path)


class _Generator:
    """Products, SKUs and stock as plain rows, from one seeded random source."""

    def __init__(self, *, rng: random.Random, leaves: list[_Node], main: Warehouse, second: Warehouse, now,
                 user=None):
        self.rng = rng
        self.user = user
        self.leaves = leaves
        self.main, self.second = main, second
        self.now = now
        self.product_number = 0
        self.names_used: set[tuple[int, str]] = set()
        stamps = {"created_at": now, "updated_at": now, "version": 1, "is_deleted": False, "deleted_at": None}
        self.products = RowWriter(Product, stamps)
        self.skus = RowWriter(SKU, {**stamps, "deleted_with_product": False})
        self.levels = RowWriter(StockLevel, {"reserved": 0, "version": 1, "updated_at": now})
        self.movements = RowWriter(StockMovement, {
            "reason": MovementReason.RECEIPT.value, "note": "Opening stock (demo data)", "reservation_id": None,
            "created_by_id": None, "created_at": now,
        })
        self.sample_levels: list[tuple[int, int, int]] = []  # (sku_id, warehouse_id, on_hand)
        self.batch_ids: dict[type, list[int]] = {Product: [], SKU: []}  # written since the last history rows
        self.product_ids: list[int] = []
        self.sku_ids: list[int] = []

    def generate(self, total_skus: int, progress: Callable[[int], Any] | None) -> None:
        remaining = total_skus
        leaf_index = 0
        while remaining > 0:
            count = min(remaining, BATCH_PRODUCTS * 4)
            product_ids = allocate_ids(Product, BATCH_PRODUCTS)
            sku_ids = allocate_ids(SKU, count)
            made = 0
            for _ in range(BATCH_PRODUCTS):
                if made == count:
                    break
                leaf = self.leaves[leaf_index % len(self.leaves)]
                leaf_index += 1
                made += self._product(leaf, next(product_ids), sku_ids, count - made)
            for writer in (self.products, self.skus, self.levels, self.movements):
                writer.flush()
            for model, ids in self.batch_ids.items():
                history_rows_insert(model, ids, reason=HISTORY_REASON, user=self.user, when=self.now)
                ids.clear()
            remaining -= made
            if progress:
                progress(made)

    def _product(self, leaf: _Node, product_id: int, sku_ids: Iterator[int], room: int) -> int:
        rng = self.rng
        self.product_number += 1
        code, _sections, (axis, axis_values), (low, high) = DEPARTMENTS[leaf.department]
        noun = _singular(leaf.product_type)
        brand = rng.choice(BRANDS)
        name = f"{brand} {rng.choice(ADJECTIVES)} {noun}"
        if (id(leaf), name.lower()) in self.names_used:
            name = f"{name} {self.product_number}"
        self.names_used.add((id(leaf), name.lower()))
        base_price = Decimal(rng.randint(low, high)) + rng.choice((Decimal("0.99"), Decimal("0.49"), Decimal("0.00")))
        range_name = leaf.name if leaf.name in LINES else "core"
        self.product_ids.append(product_id)
        self.products.add(
            id=product_id, name=name, slug=slugify(name, allow_unicode=True)[:170], category_id=leaf.obj.pk,
            description=f"{name}: a {noun.lower()} from the {brand} {range_name} range.",
            attributes={"brand": brand, "department": leaf.department},
        )
        self.batch_ids[Product].append(product_id)
        colors = rng.sample(COLORS, rng.randint(1, 3))
        start = rng.randrange(len(axis_values))
        sizes = axis_values[start:start + rng.randint(1, 4)]
        made = 0
        for color in colors:
            for size in sizes:
                if made == room:
                    return made
                sku_id = next(sku_ids)
                self.sku_ids.append(sku_id)
                sku_code = f"{DEMO_SKU_PREFIX}{code}-{self.product_number:07d}-{COLOR_CODES[color]}-{size.upper()}"
                price = base_price + (Decimal(20 * axis_values.index(size)) if axis == "capacity" else 0)
                self.skus.add(id=sku_id, sku_code=sku_code[:50], product_id=product_id, price=price,
                              attributes={"color": color.lower(), axis: size})
                self.batch_ids[SKU].append(sku_id)
                self._stock(sku_id, product_id)
                made += 1
        return made

    def _stock(self, sku_id: int, product_id: int) -> None:
        rng = self.rng
        for warehouse, chance, most in ((self.main, 0.9, 150), (self.second, 0.45, 60)):
            if rng.random() >= chance:
                continue
            on_hand = rng.randint(1, most) if rng.random() > 0.1 else rng.randint(1, 4)
            self.levels.add(sku_id=sku_id, warehouse_id=warehouse.pk, on_hand=on_hand,
                            low_stock_threshold=rng.choice((0, 5, 5, 10)))
            self.movements.add(sku_id=sku_id, warehouse_id=warehouse.pk, delta=on_hand, balance_after=on_hand,
                               reference=f"PO-DEMO-{product_id:07d}")
            if len(self.sample_levels) < 200 and on_hand >= 3:
                self.sample_levels.append((sku_id, warehouse.pk, on_hand))


def _second_warehouse(user) -> Warehouse:
    code, name = SECOND_WAREHOUSE
    existing = Warehouse.all_objects.filter(code=code).first()
    if existing is not None:
        return existing
    return warehouse_create(code=code, name=name, user=user)


def _reserve_a_few(sample: list[tuple[int, int, int]], rng: random.Random, count: int, user) -> int:
    """A few active reservations through the reservation service, on levels that have stock."""
    skus = SKU.objects.in_bulk([sku_id for sku_id, _, _ in sample])
    warehouses = Warehouse.objects.in_bulk([warehouse_id for _, warehouse_id, _ in sample])
    candidates = list(sample)
    made = 0
    for number in range(1, count + 1):
        if not candidates:
            break
        picked = rng.sample(candidates, min(len(candidates), rng.randint(1, 3)))
        lines = [ReservationRequestLine(sku=skus[sku_id], warehouse=warehouses[warehouse_id],
                                        quantity=rng.randint(1, 2))
                 for sku_id, warehouse_id, _ in picked]
        reservation_create(reference=f"ORDER-DEMO-{number:04d}", lines=lines, ttl_seconds=7 * 24 * 3600, user=user)
        candidates = [level for level in candidates if level not in picked]
        made += 1
    return made


@transaction.atomic
def demo_catalog_load(
    *, skus: int = 200, seed: int = 42, user=None, progress: Callable[[int], Any] | None = None,
) -> DemoResult:
    """Write the demo catalog with `skus` SKUs, unless demo SKUs are already stored (then skip).

    Raises `InvalidInput` when a top-level category of the demo already exists.
    """
    if skus < 1:
        raise InvalidInput("skus must be at least 1.")
    category_tree_lock()
    if demo_catalog_exists():
        return DemoResult(skipped=True)
    rng = random.Random(seed)
    paths = _leaf_paths(max(6, math.ceil(skus / (PRODUCTS_PER_LEAF * 4))), rng)
    roots = _build_tree(paths)
    taken = list(Category.objects.filter(parent=None, name__in=list(roots)).values_list("name", flat=True))
    if taken:
        raise InvalidInput(f"The catalog already has top-level categories named {', '.join(taken)}; "
                           "load the demo into a catalog without them.")
    first_tree_id = (Category.all_objects.aggregate(top=Max("tree_id"))["top"] or 0) + 1
    result = DemoResult()
    now = timezone.now()
    category_ids = []
    for depth_rows in _number_tree(roots, first_tree_id):
        for category in depth_rows:
            category.parent_id = category.parent.pk if category.parent else None
        Category.all_objects.bulk_create(depth_rows, batch_size=BATCH_SIZE)
        history_rows_insert(Category, [c.pk for c in depth_rows], reason=HISTORY_REASON, user=user, when=now)
        result.categories += len(depth_rows)
        category_ids += [category.pk for category in depth_rows]

    main = Warehouse.objects.filter(is_default=True).first() or Warehouse.objects.get(code="MAIN")
    generator = _Generator(rng=rng, leaves=_leaves(roots), main=main, second=_second_warehouse(user),
                           now=now, user=user)
    generator.generate(skus, progress)
    result.products = generator.products.written
    result.skus = generator.skus.written
    result.levels = generator.levels.written
    result.movements = generator.movements.written
    # The events of everything written in bulk, in the same transaction (one COPY each).
    result.events = emit_bulk_writes(
        categories=[(pk, "created") for pk in category_ids],
        products=[(pk, "created") for pk in generator.product_ids],
        skus=[(pk, "created") for pk in generator.sku_ids],
    ) + emit_loaded_levels(sku_ids=generator.sku_ids)
    result.reservations = _reserve_a_few(generator.sample_levels, rng, min(8, max(2, skus // 25)), user)
    return result


def planner_statistics_refresh() -> None:
    """ANALYZE the tables a bulk load filled. Without statistics PostgreSQL plans the admin's
    lists as if the tables were empty (about 90 s instead of 0.3 s for the products page at
    100k SKUs) until autovacuum gets round to them."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Category, Product, SKU, StockLevel, StockMovement, Reservation, ReservationLine):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
