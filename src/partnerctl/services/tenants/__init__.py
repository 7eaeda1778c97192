"""Tenants: the hierarchy, their lifecycle and hand-over, logos, administrators and content.

This module is the area's public surface: other areas and commands import from here only.
Helpers that only the area itself and its tests use (password hashing and fingerprints, logo and
charset checks, the copy plan) stay in their submodules.
"""

from __future__ import annotations

from partnerctl.services.tenants.admins import (
    add_admin,
    admin_address,
    admin_summary,
    list_admins,
    remove_admin,
    reset_admin_password,
)
from partnerctl.services.tenants.content import (
    CopyLine,
    add_content,
    copy_content,
    copy_counts,
    list_contents,
    remove_content,
)
from partnerctl.services.tenants.handover import CheckItem, HandoverResult, handover_tenant
from partnerctl.services.tenants.lifecycle import (
    create_tenant,
    edit_tenant,
    ensure_master_tenant,
    move_tenant,
    remove_tenant,
)
from partnerctl.services.tenants.logo import get_logo
from partnerctl.services.tenants.passwords import generate_password
from partnerctl.services.tenants.rules import TenantInfo, get_tenant, name_key, too_many_admins
from partnerctl.services.tenants.tree import (
    TenantNode,
    TenantTree,
    describe_tenant,
    list_tenants,
    tenant_tree,
)

__all__ = [
    "CheckItem",
    "CopyLine",
    "HandoverResult",
    "TenantInfo",
    "TenantNode",
    "TenantTree",
    "add_admin",
    "add_content",
    "admin_address",
    "admin_summary",
    "copy_content",
    "copy_counts",
    "create_tenant",
    "describe_tenant",
    "edit_tenant",
    "ensure_master_tenant",
    "generate_password",
    "get_logo",
    "get_tenant",
    "handover_tenant",
    "list_admins",
    "list_contents",
    "list_tenants",
    "move_tenant",
    "name_key",
    "remove_admin",
    "remove_content",
    "remove_tenant",
    "reset_admin_password",
    "tenant_tree",
    "too_many_admins",
]
