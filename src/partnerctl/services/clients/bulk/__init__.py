"""Bulk client onboarding: streamed readers, row preparation, batched writes, export.

This module is the area's public surface: other areas and commands import from here only.
"""

from __future__ import annotations

from partnerctl.services.clients.bulk.columns import (
    COLUMNS,
    FORMATS,
    IGNORED_COLUMNS,
    LIST_COLUMNS,
    csv_line,
    escape_formula,
    guess_format,
    normalize_header,
    unescape_formula,
)
from partnerctl.services.clients.bulk.export import (
    EXPORT_COLUMNS,
    export_rows,
    write_csv,
    write_json,
)
from partnerctl.services.clients.bulk.pipeline import (
    ImportSummary,
    import_clients,
)
from partnerctl.services.clients.bulk.prepare import ImportOptions
from partnerctl.services.clients.bulk.readers import (
    CSV_FIELD_LIMIT,
    MAX_CELL,
    Record,
    RowError,
    open_source,
    read_csv,
)

__all__ = [
    "COLUMNS",
    "CSV_FIELD_LIMIT",
    "EXPORT_COLUMNS",
    "FORMATS",
    "IGNORED_COLUMNS",
    "ImportOptions",
    "ImportSummary",
    "LIST_COLUMNS",
    "MAX_CELL",
    "Record",
    "RowError",
    "csv_line",
    "escape_formula",
    "export_rows",
    "guess_format",
    "import_clients",
    "normalize_header",
    "open_source",
    "read_csv",
    "unescape_formula",
    "write_csv",
    "write_json",
]
