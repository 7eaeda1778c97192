"""Handing a tenant over to its customer: the checklist, and marking it handed over once it holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from partnerctl.errors import InvalidInput
from partnerctl.services.access import require_admin
from partnerctl.services.tenants.lifecycle import record_change
from partnerctl.services.tenants.rules import (
    ADVISED_MAX_ADMINS,
    admins_query,
    get_tenant,
    tenant_snapshot,
    too_many_admins,
)
from partnerctl.services.validation import normalize_email
from partnerctl.store.models import User
from partnerctl.store.models.tenants import Tenant, TenantAdmin, TenantType
from partnerctl.store.types import utcnow


@dataclass
class CheckItem:
    item: str
    ok: bool
    detail: str = ""
    required: bool = True


@dataclass
class HandoverResult:
    tenant: str
    checks: list[CheckItem]
    handed_over: bool
    already: bool = False
    admins: int = 0

    @property
    def missing(self) -> list[CheckItem]:
        return [c for c in self.checks if c.required and not c.ok]


def _invalid_emails(admins: Sequence[TenantAdmin]) -> list[str]:
    invalid = []
    for a in admins:
        try:
            normalize_email(a.email)
        except InvalidInput:
            invalid.append(a.email)
    return invalid


def handover_checks(tenant: Tenant, admins: Sequence[TenantAdmin]) -> list[CheckItem]:
    """The checklist for this tenant and its administrators: required items, then advice."""
    invalid = _invalid_emails(admins)
    checks = [
        CheckItem(
            "at least one administrator",
            bool(admins),
            f"{len(admins)} administrator(s)"
            if admins
            else f"none yet: add one with `partnerctl tenant admin add {tenant.name!r} --email ... --generate-password`",
        ),
        CheckItem(
            "administrator e-mail addresses are valid",
            bool(admins) and not invalid,
            f"invalid: {', '.join(invalid)}"
            if invalid
            else ("no administrator yet" if not admins else "all valid"),
        ),
    ]
    if tenant.type == TenantType.custom:
        checks.append(
            CheckItem(
                "CUSTOM tenant is configured",
                not tenant.needs_setup,
                "configured"
                if not tenant.needs_setup
                else f"needs setup; once done: `partnerctl tenant edit {tenant.name!r} --configured`",
            )
        )
    not_email = [a.username for a in admins if a.username_key != a.email]
    checks += [
        CheckItem(
            f"at most {ADVISED_MAX_ADMINS} administrators (advice)",
            not too_many_admins(len(admins)),
            f"{len(admins)} administrator(s): keep the administrator role to as few users as possible",
            required=False,
        ),
        CheckItem(
            "usernames are the e-mail addresses (advice)",
            not not_email,
            f"other usernames: {', '.join(not_email)}" if not_email else "yes",
            required=False,
        ),
    ]
    return checks


def handover_tenant(session: Session, actor: User, name: str) -> HandoverResult:
    """Check the tenant is ready for its customer; when every required item holds, mark it handed over."""
    require_admin(actor, "tenant handover")
    tenant = get_tenant(session, name)
    if tenant.is_master:
        raise InvalidInput("the master tenant is your own; it is not handed over to a customer")
    admins = list(session.exec(admins_query().where(TenantAdmin.tenant_id == tenant.id)))
    result = HandoverResult(
        tenant.name, handover_checks(tenant, admins), handed_over=tenant.handed_over, admins=len(admins)
    )
    if tenant.handed_over:
        result.already = True
        return result
    if result.missing:
        return result
    before = tenant_snapshot(tenant)
    tenant.handed_over = True
    tenant.handed_over_at = utcnow()
    tenant.handed_over_by = actor.email
    record_change(session, actor, "tenant.handover", tenant, before)
    result.handed_over = True
    return result
