"""The demo catalog's vocabulary: departments with their sections, product types, variant axes
and price ranges; product lines, brands and adjectives for names."""

COLOR_CODES = {
    "Black": "BLK",
    "White": "WHT",
    "Navy": "NVY",
    "Grey": "GRY",
    "Red": "RED",
    "Olive": "OLV",
    "Beige": "BGE",
    "Blue": "BLU",
    "Green": "GRN",
    "Burgundy": "BRG",
    "Teal": "TEA",
    "Mustard": "MUS",
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
    "Clothing": (
        "CLO",
        {
            "Men": ["T-Shirts", "Shirts", "Jeans", "Jackets", "Sweaters", "Shorts", "Suits", "Hoodies"],
            "Women": ["Dresses", "Blouses", "Skirts", "Jeans", "Coats", "Knitwear", "Leggings", "Jumpsuits"],
            "Kids": ["T-Shirts", "Pyjamas", "Jackets", "Trousers", "Swimwear", "Hoodies"],
            "Sportswear": ["Running Tops", "Training Shorts", "Track Jackets", "Sports Bras", "Base Layers"],
        },
        ("size", APPAREL_SIZES),
        (9, 180),
    ),
    "Footwear": (
        "SHO",
        {
            "Men's Shoes": ["Sneakers", "Boots", "Loafers", "Sandals", "Oxfords"],
            "Women's Shoes": ["Heels", "Flats", "Ankle Boots", "Sneakers", "Sandals"],
            "Running": ["Road Running Shoes", "Trail Running Shoes", "Racing Flats"],
            "Kids' Shoes": ["School Shoes", "Trainers", "Wellies"],
        },
        ("size", SHOE_SIZES),
        (25, 220),
    ),
    "Electronics": (
        "ELE",
        {
            "Phones": ["Smartphones", "Phone Cases", "Chargers", "Screen Protectors"],
            "Computers": ["Laptops", "Monitors", "Keyboards", "Mice", "Webcams"],
            "Audio": ["Headphones", "Earbuds", "Speakers", "Soundbars"],
            "Cameras": ["Action Cameras", "Lenses", "Tripods", "Memory Cards"],
            "Wearables": ["Smartwatches", "Fitness Trackers"],
        },
        ("capacity", CAPACITIES),
        (15, 1500),
    ),
    "Home & Kitchen": (
        "HOM",
        {
            "Cookware": ["Frying Pans", "Saucepans", "Casserole Dishes", "Knife Sets"],
            "Bedding": ["Duvet Covers", "Pillows", "Sheets", "Throws"],
            "Furniture": ["Sofas", "Coffee Tables", "Bookcases", "Office Chairs"],
            "Decor": ["Lamps", "Mirrors", "Rugs", "Vases", "Cushions"],
            "Storage": ["Baskets", "Shelving Units", "Food Containers"],
        },
        ("size", ROOM_SIZES),
        (8, 900),
    ),
    "Sports & Outdoors": (
        "SPO",
        {
            "Camping": ["Tents", "Sleeping Bags", "Camping Stoves", "Headlamps"],
            "Cycling": ["Helmets", "Bike Lights", "Cycling Gloves", "Bike Locks"],
            "Fitness": ["Yoga Mats", "Dumbbells", "Resistance Bands", "Kettlebells"],
            "Water Sports": ["Wetsuits", "Snorkels", "Paddle Boards"],
        },
        ("size", ROOM_SIZES),
        (10, 600),
    ),
    "Beauty": (
        "BEA",
        {
            "Skincare": ["Moisturisers", "Cleansers", "Serums", "Sunscreens"],
            "Haircare": ["Shampoos", "Conditioners", "Hair Oils"],
            "Fragrance": ["Eaux de Parfum", "Eaux de Toilette", "Body Mists"],
        },
        ("volume", VOLUMES),
        (5, 140),
    ),
    "Toys & Games": (
        "TOY",
        {
            "Building Sets": ["Construction Kits", "Marble Runs", "Magnetic Tiles"],
            "Board Games": ["Strategy Games", "Party Games", "Family Games"],
            "Outdoor Play": ["Scooters", "Kites", "Water Guns"],
            "Puzzles": ["Jigsaw Puzzles", "Brain Teasers"],
        },
        ("size", ROOM_SIZES),
        (6, 150),
    ),
    "Books": (
        "BOO",
        {
            "Fiction": ["Crime Novels", "Science Fiction", "Romance", "Historical Fiction"],
            "Non-Fiction": ["Biographies", "Cookbooks", "Travel Guides", "History"],
            "Children's Books": ["Picture Books", "Early Readers", "Young Adult"],
        },
        ("format", PAGES),
        (4, 60),
    ),
    "Garden": (
        "GAR",
        {
            "Garden Tools": ["Spades", "Pruners", "Hoses", "Wheelbarrows"],
            "Outdoor Furniture": ["Garden Chairs", "Parasols", "Loungers"],
            "Plants & Seeds": ["Seed Packets", "Bulbs", "Planters"],
        },
        ("size", ROOM_SIZES),
        (5, 450),
    ),
    "Office": (
        "OFF",
        {
            "Stationery": ["Notebooks", "Pens", "Desk Organisers", "Planners"],
            "Office Furniture": ["Desks", "Filing Cabinets", "Desk Lamps"],
            "Printing": ["Printers", "Ink Cartridges", "Printer Paper"],
        },
        ("size", ROOM_SIZES),
        (3, 700),
    ),
}
# The fourth level, used when the catalog is large enough to need it.
LINES = [
    "Essentials",
    "Classic",
    "Premium",
    "Eco",
    "Outlet",
    "New Arrivals",
    "Signature",
    "Heritage",
    "Urban",
    "Performance",
    "Limited Edition",
    "Studio",
    "Travel",
    "Pro",
    "Everyday",
    "Luxe",
    "Compact",
    "Vintage",
    "Nordic",
    "Coastal",
]
BRANDS = [
    "Northwind",
    "Alder & Co.",
    "Bluepeak",
    "Cedarline",
    "Driftwood",
    "Everly",
    "Foxglove",
    "Granite",
    "Harbour",
    "Ironbark",
    "Juniper",
    "Kestrel",
    "Larkspur",
    "Meridian",
    "Nimbus",
    "Oakhurst",
    "Pinecrest",
    "Quarry",
    "Redfern",
    "Saltmarsh",
    "Thistle",
    "Umber",
    "Vantage",
    "Willowby",
    "Yarrow",
    "Zephyr",
]
ADJECTIVES = [
    "Classic",
    "Relaxed",
    "Slim",
    "Lightweight",
    "Heavy-Duty",
    "Everyday",
    "Organic",
    "Recycled",
    "Compact",
    "Deluxe",
    "Essential",
    "Modern",
    "Rugged",
    "Soft",
    "Smart",
    "Weatherproof",
    "Premium",
]
KEEP_PLURAL = {
    "Jeans",
    "Shorts",
    "Leggings",
    "Trousers",
    "Headphones",
    "Earbuds",
    "Pyjamas",
    "Swimwear",
    "Knitwear",
    "Sportswear",
    "Wellies",
    "Science Fiction",
    "Romance",
    "History",
    "Young Adult",
}


def singular(plural: str) -> str:
    """The singular of a product type, as a product name uses it ("Sandals" -> "Sandal")."""
    if plural in KEEP_PLURAL or " de " in plural:
        return plural
    for ending, replacement in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("xes", "x")):
        if plural.endswith(ending):
            return plural[: -len(ending)] + replacement
    return plural[:-1] if plural.endswith("s") and not plural.endswith("ss") else plural
