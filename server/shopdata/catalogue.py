"""What a generated demo shop is made of: the product types and their options, people's names, streets,
cities, card brands, and the mix of order statuses (generator.py draws from these tables).

Changing a table changes the shop every seed gives.
"""

from __future__ import annotations

from ..domain.statuses import OrderStatus

# Product types: name, option name -> values, typical price in cents.
CATALOGUE: list[tuple[str, dict[str, list[str]], int]] = [
    (
        "T-Shirt",
        {
            "color": ["black", "white", "navy", "red", "green"],
            "size": ["S", "M", "L", "XL"],
            "material": ["cotton", "polyester"],
        },
        2400,
    ),
    (
        "Hoodie",
        {"color": ["grey", "black", "blue"], "size": ["S", "M", "L", "XL", "XXL"], "zipper": ["full", "none"]},
        5900,
    ),
    (
        "Running Shoes",
        {"size": ["7", "8", "9", "10", "11", "12"], "color": ["black", "white", "orange"], "sole": ["road", "trail"]},
        11900,
    ),
    (
        "Backpack",
        {"capacity": ["18L", "25L", "32L"], "color": ["black", "olive", "grey"], "material": ["nylon", "canvas"]},
        7400,
    ),
    (
        "Water Bottle",
        {
            "capacity": ["500ml", "750ml", "1000ml"],
            "material": ["steel", "glass", "plastic"],
            "color": ["blue", "black", "white"],
        },
        2600,
    ),
    (
        "Desk Lamp",
        {
            "color": ["black", "white", "brass"],
            "brightness": ["low", "medium", "high"],
            "power": ["USB", "mains", "battery"],
        },
        4500,
    ),
    (
        "Office Chair",
        {
            "material": ["mesh", "fabric", "leather"],
            "color": ["black", "grey", "blue"],
            "armrest": ["fixed", "adjustable"],
        },
        28900,
    ),
    (
        "Mechanical Keyboard",
        {
            "switch": ["linear", "tactile", "clicky"],
            "layout": ["full", "TKL", "60%"],
            "backlight": ["none", "white", "RGB"],
        },
        12900,
    ),
    ("Wireless Mouse", {"color": ["black", "white"], "grip": ["palm", "claw"], "sensor": ["optical", "laser"]}, 3900),
    (
        "Headphones",
        {
            "type": ["over-ear", "on-ear", "in-ear"],
            "connectivity": ["wired", "wireless"],
            "color": ["black", "white", "red"],
        },
        14900,
    ),
    (
        "Smart Watch",
        {"color": ["black", "silver", "gold"], "band": ["silicone", "leather", "metal"], "size": ["40mm", "44mm"]},
        24900,
    ),
    (
        "Coffee Maker",
        {
            "color": ["black", "stainless"],
            "capacity": ["4 cups", "8 cups", "12 cups"],
            "type": ["drip", "espresso", "french press"],
        },
        9900,
    ),
    (
        "Blender",
        {"capacity": ["1L", "1.5L", "2L"], "power": ["500W", "800W", "1200W"], "color": ["black", "white", "red"]},
        8900,
    ),
    (
        "Yoga Mat",
        {
            "thickness": ["4mm", "6mm", "8mm"],
            "material": ["PVC", "TPE", "natural rubber"],
            "color": ["purple", "green", "blue"],
        },
        3400,
    ),
    (
        "Tent",
        {
            "size": ["2-person", "4-person", "6-person"],
            "season": ["3-season", "4-season"],
            "color": ["green", "orange", "blue"],
        },
        21900,
    ),
    (
        "Sunglasses",
        {"frame": ["black", "tortoise", "gold"], "lens": ["grey", "green", "mirrored"], "polarized": ["yes", "no"]},
        8900,
    ),
    (
        "Bookshelf",
        {
            "material": ["oak", "pine", "metal"],
            "height": ["3 ft", "5 ft", "6 ft"],
            "color": ["natural", "white", "black"],
        },
        15900,
    ),
    (
        "Electric Kettle",
        {
            "capacity": ["1L", "1.5L", "1.7L"],
            "material": ["glass", "steel", "plastic"],
            "color": ["silver", "black", "white"],
        },
        4900,
    ),
    (
        "Bluetooth Speaker",
        {"color": ["black", "blue", "red"], "battery": ["10h", "20h"], "waterproof": ["yes", "no"]},
        7900,
    ),
    (
        "Jigsaw Puzzle",
        {
            "pieces": ["500", "1000", "1500"],
            "theme": ["animals", "art", "landscape"],
            "difficulty": ["beginner", "intermediate", "expert"],
        },
        2200,
    ),
]

FIRST_NAMES = [
    "Ava",
    "Liam",
    "Maya",
    "Noah",
    "Zoe",
    "Omar",
    "Lena",
    "Ivan",
    "Nora",
    "Ravi",
    "Emma",
    "Kofi",
    "Sara",
    "Jonas",
    "Aiko",
    "Mateo",
    "Chloe",
    "Yusuf",
    "Ines",
    "Hugo",
    "Priya",
    "Ethan",
    "Lucia",
    "Amir",
    "Mia",
    "Daniel",
    "Hana",
    "Felix",
    "Grace",
    "Tariq",
    "Elena",
    "Samuel",
    "Leila",
    "Oscar",
    "Rosa",
    "Kenji",
]
LAST_NAMES = [
    "Garcia",
    "Chen",
    "Smith",
    "Okafor",
    "Novak",
    "Silva",
    "Kim",
    "Ahmed",
    "Muller",
    "Rossi",
    "Khan",
    "Johnson",
    "Lopez",
    "Nguyen",
    "Patel",
    "Brown",
    "Sato",
    "Ivanova",
    "Martin",
    "Moore",
    "Wilson",
    "Anderson",
    "Thomas",
    "Jackson",
    "Lee",
    "Hernandez",
    "Santos",
    "Kowalski",
    "Haddad",
    "Berg",
]
STREETS = [
    "Maple Avenue",
    "Oak Street",
    "Cedar Lane",
    "Hillcrest Road",
    "River Road",
    "Lakeview Drive",
    "Sunset Boulevard",
    "Park Avenue",
    "Elm Street",
    "Willow Way",
    "Highland Avenue",
    "Main Street",
]
CITIES = [
    ("Seattle", "WA", "981"),
    ("Austin", "TX", "787"),
    ("Denver", "CO", "802"),
    ("Boston", "MA", "021"),
    ("Chicago", "IL", "606"),
    ("Phoenix", "AZ", "850"),
    ("Portland", "OR", "972"),
    ("Atlanta", "GA", "303"),
    ("Miami", "FL", "331"),
    ("Columbus", "OH", "432"),
    ("San Diego", "CA", "921"),
    ("Nashville", "TN", "372"),
]
CARD_BRANDS = ["visa", "mastercard", "amex", "discover"]
# Status mix of a live shop; older orders are further along.
STATUSES: list[tuple[OrderStatus, int]] = [
    ("pending", 40),
    ("processed", 10),
    ("delivered", 37),
    ("cancelled", 10),
    ("return requested", 2),
    ("exchange requested", 1),
]
