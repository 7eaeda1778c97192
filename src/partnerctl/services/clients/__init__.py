"""Clients: onboarding from a template, the portal's tabs and filters, changes, reports, bulk import/export.

This module is the area's public surface: other areas and commands import from here only.
"""

from __future__ import annotations

from partnerctl.services.clients.changes import (
    activate_client,
    archive_client,
    assign_users,
    decline_invitation,
    edit_client,
    remove_client,
    unassign_users,
    update_tasks,
)
from partnerctl.services.clients.details import (
    client_details,
)
from partnerctl.services.clients.listing import (
    TAB_LABELS,
    ClientFilters,
    Sort,
    Tab,
    client_query,
    like_escape,
    list_clients,
    list_groups,
    order_clients,
    tab_counts,
)
from partnerctl.services.clients.model import (
    ADDRESS_COLUMNS,
    ClientCreate,
    ClientUpdate,
    address_part,
    client_fields,
    derive_ref,
    normalize_ref,
    parse_status,
)
from partnerctl.services.clients.onboarding import (
    create_client,
    prepare_client,
    welcome_context,
)
from partnerctl.services.clients.report import (
    client_report,
)
from partnerctl.services.clients.templating import (
    accept_invitation,
    apply_template,
    diff_client,
)

__all__ = [
    "ADDRESS_COLUMNS",
    "ClientCreate",
    "ClientFilters",
    "ClientUpdate",
    "Sort",
    "TAB_LABELS",
    "Tab",
    "accept_invitation",
    "activate_client",
    "address_part",
    "apply_template",
    "archive_client",
    "assign_users",
    "client_details",
    "client_fields",
    "client_query",
    "client_report",
    "create_client",
    "decline_invitation",
    "derive_ref",
    "diff_client",
    "edit_client",
    "like_escape",
    "list_clients",
    "list_groups",
    "normalize_ref",
    "order_clients",
    "parse_status",
    "prepare_client",
    "remove_client",
    "tab_counts",
    "unassign_users",
    "update_tasks",
    "welcome_context",
]
