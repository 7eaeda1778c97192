"""The columns import reads and export writes: names, aliases, list cells, and spreadsheet-safe CSV cells."""

from __future__ import annotations

import re

FORMATS = ("csv", "json", "jsonl")

# The columns import reads and export writes, in export order. List columns hold `;`-separated
# values in CSV and arrays (or `;`-separated strings) in JSON.
COLUMNS = (
    "ref", "name", "status", "contact_name", "contact_email", "vat_number", "currency", "language",
    "groups", "assign", "integrations", "permissions",
    "billing_street", "billing_city", "billing_zip", "billing_country",
    "shipping_street", "shipping_city", "shipping_zip", "shipping_country",
    "missing_receipts", "wallet_balance", "expenses_ready", "template", "welcome",
)  # fmt: skip
LIST_COLUMNS = frozenset({"groups", "assign", "integrations", "permissions"})
# Read and ignored: the error report's own column, so a fixed errors file imports as it is.
IGNORED_COLUMNS = frozenset({"error", "line"})
ALIASES = {
    "reference": "ref", "client_ref": "ref", "client": "name", "client_name": "name",
    "contact": "contact_name", "email": "contact_email", "contact_e_mail": "contact_email",
    "e_mail": "contact_email", "group": "groups", "assigned": "assign", "assigned_users": "assign",
    "assign_users": "assign", "users": "assign", "integration": "integrations",
    "permission": "permissions", "modules": "permissions", "lang": "language", "vat": "vat_number",
    "vat_id": "vat_number", "btw_nummer": "vat_number", "ust_idnr": "vat_number",
}  # fmt: skip

# Cells starting with these are formulas to a spreadsheet: export prefixes them with a quote.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def escape_formula(text: str) -> str:
    """Defuse spreadsheet formulas (=, +, -, @, tab, CR) in an exported CSV cell; import undoes it."""
    return "'" + text if _FORMULA.match(text) else text


def unescape_formula(text: str) -> str:
    return text[1:] if text.startswith("'") and _FORMULA.match(text) else text


def csv_line(cells: list[str]) -> str:
    """One CSV record ending in \n; unlike csv.writer with a \n terminator it also quotes a lone \r."""
    return ",".join('"' + c.replace('"', '""') + '"' if _NEEDS_QUOTES.search(c) else c for c in cells) + "\n"


def normalize_header(name: str) -> str:
    key = re.sub(r"[\s\-.]+", "_", (name or "").strip().lower()).strip("_")
    return ALIASES.get(key, key)


def split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def guess_format(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".jsonl") or lower.endswith(".ndjson"):
        return "jsonl"
    if lower.endswith(".json"):
        return "json"
    return "csv"
