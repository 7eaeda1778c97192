"""From an import record to a prepared client: the import's options, cell parsing, and column-aware errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from partnerctl.errors import InvalidInput
from partnerctl.services.clients.bulk.readers import Record, RowError
from partnerctl.services.clients.model import ClientCreate, parse_status
from partnerctl.services.clients.onboarding import PreparedClient, prepare_client
from partnerctl.services.templates import Lookups, TemplateInfo
from partnerctl.store.models import Client
from partnerctl.store.models.clients import ClientStatus, IntegrationState

ON_EXISTING = ("skip", "update", "fail")

_TRUE = {"yes", "y", "true", "1", "on", "x"}
_FALSE = {"no", "n", "false", "0", "off", ""}
# Which column an error message is about, when the validator does not say (first match wins).
_COLUMN_HINTS = (
    ("contact e-mail", ("contact_email",)), ("user", ("assign",)), ("reference", ("ref",)),
    ("client name", ("name",)), ("currency", ("currency",)), ("language", ("language",)),
    ("permission", ("permissions",)), ("group", ("groups",)), ("integration", ("integrations",)),
    ("product", ("template",)), ("template", ("template",)), ("missing receipts", ("missing_receipts",)),
    ("wallet balance", ("wallet_balance",)), ("expenses ready", ("expenses_ready",)),
    ("welcome", ("welcome", "contact_email")), ("status", ("status",)),
    ("vat number", ("vat_number",)), ("country", ("billing_country", "shipping_country")), ("street", ("billing_street", "shipping_street")),
    ("city", ("billing_city", "shipping_city")), ("zip", ("billing_zip", "shipping_zip")),
)  # fmt: skip


def guess_column(message: str, cells: dict[str, Any]) -> str | None:
    lowered = message.lower()
    for hint, candidates in _COLUMN_HINTS:
        if hint in lowered:
            given = [c for c in candidates if c in cells]
            for c in given:
                value = cells[c]
                values = value if isinstance(value, list) else [value]
                if any(repr(v) in message or (isinstance(v, str) and len(v) > 20) for v in values):
                    return c
            return (given or list(candidates))[0]
    return None


def parse_bool(raw: str, column: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidInput(f"{column} must be yes or no, not {raw!r}")


def split_integration(raw: str) -> tuple[str, str | None]:
    """`exact-online` or `exact-online:connected` (export writes the state)."""
    key, sep, state = raw.partition(":")
    return key.strip(), (state.strip().lower() or None) if sep else None


@dataclass
class ImportOptions:
    template: str | None = None
    no_template: bool = False
    key: str = "ref"
    on_existing: str = "skip"
    dry_run: bool = False
    welcome: bool | None = None
    batch_size: int = 2000

    def check(self) -> None:
        if self.on_existing not in ON_EXISTING:
            raise InvalidInput(f"--on-existing must be skip, update or fail, not {self.on_existing!r}")
        if self.key not in ("ref", "name"):
            raise InvalidInput(f"--key must be ref or name, not {self.key!r}")
        if not 1 <= self.batch_size <= 10_000:
            raise InvalidInput("--batch-size must be between 1 and 10000")
        if self.template and self.no_template:
            raise InvalidInput("--template and --no-template exclude each other")


@dataclass
class PreparedRow:
    """A record ready to write: the prepared client and what import adds to `client add`."""

    record: Record
    prepared: PreparedClient
    status: ClientStatus | None  # the status to set after onboarding (export carries active/archived)
    states: dict[str, str]  # integration key -> state given in the file
    key: str  # the idempotency key (ref_key or name_key)


def _integration_states(items: list[str]) -> tuple[list[str], dict[str, str]]:
    """Integration cells (`key` or `key:state`) as (keys, key -> state given)."""
    keys: list[str] = []
    states: dict[str, str] = {}
    for item in items:
        key, state = split_integration(item)
        if state is not None:
            try:
                states[key.lower()] = IntegrationState(state).value
            except ValueError:
                raise InvalidInput(
                    f"unknown integration state {state!r} for {key}: use pending or connected"
                ) from None
        keys.append(key)
    return keys, states


class Preparer:
    """Turns records into prepared clients with the clients service's own `prepare_client`."""

    def __init__(self, lookups: Lookups, options: ImportOptions, actor) -> None:
        self.lookups = lookups
        self.options = options
        self.actor = actor
        self.default_template = (
            None
            if options.no_template
            else lookups.template(options.template)
            if options.template
            else lookups.default_template
        )

    def _template(self, cells: dict[str, Any], status: ClientStatus | None) -> TemplateInfo | None:
        """The row's template: none for an invitation, else its template column, else the import's."""
        if status == ClientStatus.invited:
            return None
        if "template" in cells:
            raw = cells["template"]
            return None if raw.strip().lower() == "none" else self.lookups.template(raw)
        return self.default_template

    def _client(self, cells: dict[str, Any]) -> tuple[PreparedClient, ClientStatus | None, dict[str, str]]:
        """Validate one row's cells as `client add` would (raises InvalidInput, ValidationError)."""
        data: dict[str, Any] = {k: v for k, v in cells.items() if k not in ("status", "template", "welcome")}
        states: dict[str, str] = {}
        if "integrations" in data:
            data["integrations"], states = _integration_states(data["integrations"])
        status = parse_status(cells["status"]) if "status" in cells else None
        if status == ClientStatus.invited:
            data["invited"] = True
        welcome = cells.get("welcome")
        data["welcome"] = (
            parse_bool(welcome, "welcome") if welcome is not None else bool(self.options.welcome)
        )
        if "name" not in data:
            raise InvalidInput("client name must not be empty")
        template = self._template(cells, status)
        prepared = prepare_client(self.lookups, ClientCreate.model_validate(data), template=template)
        if self.actor is not None:
            prepared.values["created_by"] = self.actor.email
        if status is not None and status != ClientStatus.invited:
            prepared.values["status"] = status
        return prepared, status, states

    def prepare(self, record: Record) -> PreparedRow | RowError:
        cells = record.cells
        try:
            prepared, status, states = self._client(cells)
        except InvalidInput as exc:
            return RowError(record.line, guess_column(exc.message, cells), exc.message, record.raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            column = str(first["loc"][0]) if first.get("loc") else None
            return RowError(record.line, column, first.get("msg", "invalid value"), record.raw)
        problem = _too_long(prepared.values)
        if problem:
            return RowError(record.line, problem[0], problem[1], record.raw)
        key = prepared.values["ref_key"] if self.options.key == "ref" else prepared.values["name_key"]
        return PreparedRow(record, prepared, status, states, key)


# The table's own column lengths (PostgreSQL enforces them, SQLite would not).
_LIMITS: list[tuple[str, int]] = [
    (c.name, c.type.length)
    for c in Client.__table__.columns
    if getattr(c.type, "length", None) and c.name not in ("status",)
]


def _too_long(values: dict[str, Any]) -> tuple[str, str] | None:
    """(column, reason) for the first value longer than its column allows."""
    get = values.get
    for name, limit in _LIMITS:
        value = get(name)
        if isinstance(value, str) and len(value) > limit:
            column = "contact_name" if name == "contact_name" else name.replace("_key", "")
            return column, f"{column.replace('_', ' ')} is longer than {limit} characters"
    return None
