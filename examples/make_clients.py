"""Generate examples/clients.csv: realistic, clean, deterministic client rows for `client import`.

    python examples/make_clients.py            # writes examples/clients.csv (300 rows)
    python examples/make_clients.py -n 1000 -o /tmp/clients.csv

The benchmark (benchmarks/import_bench.py) uses `client_rows()` from here too.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

COLUMNS = [
    "ref", "name", "contact_name", "contact_email", "currency", "language", "groups", "assign",
    "integrations", "permissions", "billing_street", "billing_city", "billing_zip", "billing_country",
    "missing_receipts", "wallet_balance", "expenses_ready",
]  # fmt: skip

# (country, language, currency, cities, street words, company suffixes, first names, last names)
MARKETS = [
    ("NL", "nl", "EUR", ["Amsterdam", "Utrecht", "Rotterdam", "Eindhoven", "Groningen", "Zwolle"],
     ["Kerkstraat", "Stationsweg", "Dorpsstraat", "Marktplein", "Molenweg"], ["B.V.", "V.O.F.", ""],
     ["Daan", "Sanne", "Bram", "Lotte", "Jeroen", "Femke"], ["de Vries", "Jansen", "Bakker", "Visser", "Smit"]),
    ("DE", "de", "EUR", ["Berlin", "Hamburg", "München", "Köln", "Leipzig", "Düsseldorf"],
     ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schulstraße", "Lindenallee"], ["GmbH", "KG", "e.K."],
     ["Jonas", "Lea", "Lukas", "Anna", "Felix", "Marie"], ["Müller", "Schmidt", "Schneider", "Fischer", "Weber"]),
    ("FR", "fr", "EUR", ["Paris", "Lyon", "Nantes", "Lille", "Bordeaux", "Toulouse"],
     ["rue de la République", "avenue Victor Hugo", "rue Pasteur", "boulevard Voltaire"], ["SARL", "SAS", ""],
     ["Camille", "Louis", "Chloé", "Hugo", "Léa", "Théo"], ["Martin", "Bernard", "Dubois", "Durand", "Lefèvre"]),
    ("DK", "da", "DKK", ["København", "Aarhus", "Odense", "Aalborg", "Esbjerg"],
     ["Nørregade", "Vestergade", "Østerbrogade", "Strandvejen"], ["ApS", "A/S", "I/S"],
     ["Mads", "Freja", "Emil", "Ida", "Oliver", "Sofie"], ["Nielsen", "Jensen", "Hansen", "Pedersen", "Larsen"]),
    ("GB", "en", "GBP", ["London", "Manchester", "Bristol", "Leeds", "Edinburgh"],
     ["High Street", "Station Road", "Church Lane", "Victoria Road"], ["Ltd", "LLP", "& Sons"],
     ["Oliver", "Amelia", "Harry", "Isla", "George", "Emily"], ["Smith", "Jones", "Taylor", "Brown", "Wilson"]),
    ("BE", "nl", "EUR", ["Antwerpen", "Gent", "Brugge", "Leuven", "Hasselt"],
     ["Meir", "Veldstraat", "Grote Markt", "Bondgenotenlaan"], ["BV", "NV", "CommV"],
     ["Lucas", "Emma", "Noah", "Olivia", "Arthur", "Louise"], ["Peeters", "Janssens", "Maes", "Claes", "Wouters"]),
]  # fmt: skip
TRADES = {
    "Retail": ["Bakery", "Bike Shop", "Florist", "Bookshop", "Optician", "Butcher", "Wine Store"],
    "Hospitality": ["Café", "Hotel", "Bistro", "Brasserie", "Guesthouse", "Catering"],
    "Construction": ["Builders", "Roofing", "Plumbing", "Electrics", "Carpentry", "Painting"],
    "Healthcare": ["Physiotherapy", "Dental Practice", "Pharmacy", "Veterinary Clinic"],
    "Professional services": ["Architects", "Consultancy", "Translation", "Design Studio", "Legal"],
    "Non-profit": ["Foundation", "Sports Club", "Music Society", "Community Centre"],
}
PERMISSION_SETS = ["", "", "", "invoices;estimates;support", "invoices;expenses;reports;files"]


def client_rows(
    n: int, *, seed: int = 5, users: list[str] | None = None, integrations: list[str] | None = None
):
    """`n` realistic rows, the same for the same seed; refs are C00001, C00002, ..."""
    rng = random.Random(seed)
    groups = list(TRADES)
    for i in range(1, n + 1):
        country, lang, currency, cities, streets, suffixes, firsts, lasts = rng.choice(MARKETS)
        group = rng.choice(groups)
        trade = rng.choice(TRADES[group])
        last = rng.choice(lasts)
        suffix = rng.choice(suffixes)
        name = f"{last} {trade}" + (f" {suffix}" if suffix else "")
        first = rng.choice(firsts)
        local = (
            f"{first}.{last}".lower().replace(" ", "").replace("ü", "ue").replace("è", "e").replace("é", "e")
        )
        domain = "".join(ch for ch in f"{last}{trade}".lower() if ch.isascii() and ch.isalnum())
        extra_group = rng.random() < 0.2
        yield {
            "ref": f"C{i:05d}",
            "name": name,
            "contact_name": f"{first} {last}",
            "contact_email": f"{local}@{domain}.example",
            "currency": currency,
            "language": lang,
            "groups": group + (";Key accounts" if extra_group else ""),
            "assign": ";".join(rng.sample(users, k=min(len(users), rng.choice([1, 1, 2])))) if users else "",
            "integrations": ";".join(integrations) if integrations and rng.random() < 0.5 else "",
            "permissions": rng.choice(PERMISSION_SETS),
            "billing_street": f"{rng.choice(streets)} {rng.randint(1, 240)}",
            "billing_city": rng.choice(cities),
            "billing_zip": f"{rng.randint(1000, 9999)}"
            + (f" {rng.choice('ABCDEFGHJK')}{rng.choice('LMNPRSTX')}" if country == "NL" else ""),
            "billing_country": country,
            "missing_receipts": str(rng.choice([0, 0, 0, 1, 2, 3, 5, 8, 13])),
            "wallet_balance": f"{rng.randint(-500, 25000) / 100:.2f}",
            "expenses_ready": str(rng.choice([0, 0, 1, 2, 4])),
        }


def write_csv(path: Path, rows) -> int:
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="number of rows")
    parser.add_argument("-o", type=Path, default=Path(__file__).with_name("clients.csv"), help="output file")
    parser.add_argument("--seed", type=int, default=5, help="random seed (same seed, same file)")
    args = parser.parse_args()
    # The README's set-up runs `init --admin-email anna@acme.example`: that user exists on a fresh store.
    n = write_csv(args.o, client_rows(args.n, seed=args.seed, users=["anna@acme.example"]))
    print(f"wrote {n} rows to {args.o}")


if __name__ == "__main__":
    main()
