"""Partner users: accounts and roles (accounts), and their PostgreSQL login roles (db_roles).

This module is the area's public surface: other areas and commands import from here only.
"""

from __future__ import annotations

from partnerctl.services.users.accounts import (
    activate_user,
    create_user,
    deactivate_user,
    edit_user,
    find_user,
    get_user,
    link_user,
    list_users,
    parse_role,
    resolve_actor,
    user_snapshot,
)
from partnerctl.services.users.db_roles import is_postgres, link_first_admin, sync_membership

__all__ = [
    "activate_user",
    "create_user",
    "deactivate_user",
    "edit_user",
    "find_user",
    "get_user",
    "is_postgres",
    "link_first_admin",
    "link_user",
    "list_users",
    "parse_role",
    "resolve_actor",
    "sync_membership",
    "user_snapshot",
]
