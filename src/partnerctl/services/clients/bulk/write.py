"""Writing one import batch: new clients with everything `client add` writes, updates of existing ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from partnerctl.mail.render import render
from partnerctl.services.billing import parse_payer, subscription_snapshot
from partnerctl.services.clients.bulk.columns import COLUMNS, LIST_COLUMNS
from partnerctl.services.clients.bulk.prepare import ImportOptions, PreparedRow
from partnerctl.services.clients.bulk.readers import RowError
from partnerctl.services.clients.delta import ListDelta, list_delta
from partnerctl.services.clients.listing import assigned_of, groups_of, integrations_of
from partnerctl.services.clients.model import client_snapshot
from partnerctl.services.clients.onboarding import welcome_context, welcome_key
from partnerctl.services.money import anchor_day_for
from partnerctl.services.templates import Lookups
from partnerctl.store.bulk import bulk_insert, select_pairs
from partnerctl.store.models import (
    AuditEvent,
    Client,
    ClientAssignment,
    ClientGroup,
    ClientIntegration,
    OutboxMessage,
    Subscription,
)
from partnerctl.store.types import utcnow
from partnerctl.values import to_jsonable

# SQLite pages (4 KiB) of WAL between checkpoints while importing (the default is 1000).
WAL_CHECKPOINT_PAGES = 16_384
# SQLite page cache while importing, in KiB.
SQLITE_CACHE_KIB = 16_384
# What an update never changes: the reference is the key (or, matched by name, stays as it is in
# the store), template and welcome apply at onboarding only; permissions are compared as a list.
_NOT_UPDATED = ("template", "welcome", "ref", "permissions")


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """to_jsonable for flat snapshots, with a fast path for the plain values most fields hold."""
    out = {}
    for k, v in data.items():
        t = type(v)
        if t in _PLAIN or t is list and _STR.issuperset(map(type, v)):
            out[k] = v
        elif issubclass(t, Enum):
            out[k] = v.value  # what to_jsonable makes of it (status, payer)
        else:
            out[k] = to_jsonable(v)
    return out


_PLAIN = frozenset({str, int, bool, float, type(None)})
_STR = frozenset({str})


class _Values:
    """Attribute access over a prepared client's values (what client_snapshot reads)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


@dataclass
class ClientChange:
    """What an import row changes on an existing client: fields, and each list's delta."""

    fields: dict[str, Any]
    groups: ListDelta[str]
    users: ListDelta[str]
    integrations: ListDelta[tuple[str, str]]

    @property
    def changed(self) -> bool:
        return bool(self.fields) or self.groups.changed or self.users.changed or self.integrations.changed


def plan_update(
    client: Client,
    row: PreparedRow,
    *,
    groups: list[str],
    users: list[str],
    integrations: list[tuple[str, str]],
) -> ClientChange:
    """What setting the row on `client` changes (empty cells keep the current value); pure."""
    cells = row.record.cells
    values = row.prepared.values
    fields: dict[str, Any] = {}
    for column in COLUMNS:
        if column not in cells or column in LIST_COLUMNS or column in _NOT_UPDATED:
            continue
        if column == "status":
            if row.status is not None and row.status != client.status:
                fields["status"] = row.status
            continue
        for name in ("name", "name_key") if column == "name" else (column,):
            if getattr(client, name) != values[name]:
                fields[name] = values[name]
    if "permissions" in cells and list(client.permissions or []) != values["permissions"]:
        fields["permissions"] = values["permissions"]
    p = row.prepared
    states = dict(integrations)
    return ClientChange(
        fields,
        list_delta(groups, target=p.groups if "groups" in cells else groups),
        list_delta(users, target=[u.email for u in p.users] if "assign" in cells else users),
        list_delta(
            integrations,
            target=[(i.key, row.states.get(i.key, states.get(i.key, "pending"))) for i in p.integrations]
            if "integrations" in cells
            else integrations,
        ),
    )


class Writer:
    """Writes a batch of prepared clients in a few multi-row statements per table."""

    def __init__(
        self, lookups: Lookups, actor_email: str, event_actor: dict[str, str | None] | None = None
    ) -> None:
        self.lookups = lookups
        self.actor_email = actor_email
        # Who the audit events name: audit.actor_fields of the command's session (an admin acting
        # for another user is the actor, on behalf of them).
        self.event_actor = event_actor or {"actor": actor_email, "on_behalf_of": None}
        self._sub_rows: dict[tuple, dict[str, Any]] = {}
        self._sub_snaps: dict[tuple, dict[str, Any]] = {}
        # Every column with its model default, so rows carry whatever the model adds later.
        self.client_defaults = Client(ref="x", ref_key="x", name="x", name_key="x").model_dump(exclude={"id"})
        self.outbox_defaults = OutboxMessage(
            dedupe_key="x", kind="welcome", to_addr="x", subject="x", body_text="x"
        ).model_dump(exclude={"id"})

    def existing(self, session, key: str, keys: list[str]) -> dict[str, list[int]]:
        """Existing clients of a batch, by idempotency key."""
        found: dict[str, list[int]] = {}
        column = "ref_key" if key == "ref" else "name_key"
        for k, cid in select_pairs(session.connection(), "clients", column, "id", keys):
            found.setdefault(k, []).append(cid)
        return found

    def insert(self, session, rows: list[PreparedRow]) -> None:
        """Insert new clients and everything `client add` writes with them (one batch, one transaction)."""
        if not rows:
            return
        session.flush()  # this batch's updates first, as before (the id look-ups below are plain SQL)
        now = utcnow()
        conn = session.connection()
        stamps = {"created_at": now, "updated_at": now}
        bulk_insert(
            conn, Client.__table__, [{**self.client_defaults, **r.prepared.values} for r in rows], stamps
        )
        ref_keys = [r.prepared.values["ref_key"] for r in rows]
        ids = dict(select_pairs(conn, Client.__tablename__, "ref_key", "id", ref_keys))
        for model, values in self._children(rows, ids):
            if values:
                bulk_insert(conn, model.__table__, values)
        subs = [
            (r, self._subscription(ids[r.prepared.values["ref_key"]], r.prepared))
            for r in rows
            if r.prepared.product
        ]
        sub_ids: dict[int, int] = {}
        if subs:
            bulk_insert(conn, Subscription.__table__, [s for _, s in subs], stamps)
            client_ids = [s["client_id"] for _, s in subs]
            sub_ids = dict(select_pairs(conn, Subscription.__tablename__, "client_id", "id", client_ids))
        events = [self._client_event(r) for r in rows] + [
            self._subscription_event(r, s, sub_ids) for r, s in subs
        ]
        bulk_insert(conn, AuditEvent.__table__, events, {"at": now})
        self._welcome(session, [r for r in rows if r.prepared.welcome], ids)

    @staticmethod
    def _children(rows: list[PreparedRow], ids: dict[str, int]) -> list[tuple[Any, list[dict[str, Any]]]]:
        """The group, assignment and integration rows of new clients (client ids by ref_key)."""
        groups, assignments, integrations = [], [], []
        for r in rows:
            cid = ids[r.prepared.values["ref_key"]]
            p = r.prepared
            groups += [{"client_id": cid, "group_name": g} for g in p.groups]
            assignments += [{"client_id": cid, "user_id": u.id} for u in p.users]
            integrations += [
                {"client_id": cid, "integration_id": i.id, "state": r.states.get(i.key, "pending")}
                for i in p.integrations
            ]
        return [(ClientGroup, groups), (ClientAssignment, assignments), (ClientIntegration, integrations)]

    def _event(self, action: str, entity: str, key: str, after: dict) -> dict:
        return {
            **self.event_actor,
            "action": action,
            "entity": entity,
            "key": key,
            "before": None,
            "after": after,
        }

    def _client_event(self, row: PreparedRow) -> dict:
        """The `client.add` audit row `client add` writes for the same client."""
        p = row.prepared
        snapshot = client_snapshot(
            _Values(p.values),
            groups=p.groups,
            users=[u.email for u in p.users],
            integrations=[i.key for i in p.integrations],
        )
        after = {**snapshot, "template": p.template.name if p.template else None, "welcome": p.welcome}
        return self._event("client.add", "client", p.ref, _jsonable(after))

    def _subscription_event(self, row: PreparedRow, sub: dict[str, Any], sub_ids: dict[int, int]) -> dict:
        sid = sub_ids[sub["client_id"]]
        snap = subscription_snapshot(_Values({**sub, "id": sid}), row.prepared.product.product.key)
        # The snapshot differs between rows only in its ids: convert the rest once per shape.
        shape = tuple(v for k, v in snap.items() if k not in ("id", "client_id"))
        base = self._sub_snaps.get(shape)
        if base is None:
            base = self._sub_snaps[shape] = _jsonable({**snap, "client": None})
        after = {**base, "id": sid, "client_id": sub["client_id"], "client": row.prepared.ref}
        return self._event("subscription.add", "subscription", str(sid), after)

    def _subscription(self, client_id: int, prepared) -> dict[str, Any]:
        """The row `add_subscription` writes; built once per product/payer/seats, then copied."""
        today = date.today()
        p = prepared.product
        cache_key = (p.product.id, p.seats, str(p.payer), today)
        base = self._sub_rows.get(cache_key)
        if base is None:
            sub = Subscription(
                client_id=0,
                product_id=p.product.id,
                seats=p.seats,
                payer=parse_payer(p.payer),
                start_date=today,
                next_payment_date=today,
                anchor_day=anchor_day_for(today),
                created_by=self.actor_email,
            )
            base = sub.model_dump(exclude={"id", "created_at", "updated_at"})
            self._sub_rows[cache_key] = base
        return {**base, "client_id": client_id}

    def _welcome(self, session, rows: list[PreparedRow], ids: dict[str, int]) -> None:
        """Queue welcome e-mails exactly as `client add --welcome` does (same context, same dedupe key)."""
        if not rows:
            return
        keys = [welcome_key(r.prepared.ref) for r in rows]
        taken = set(
            session.exec(select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(keys)))
        )
        messages = []
        for key, r in zip(keys, rows, strict=True):
            if key in taken:
                continue
            v = r.prepared.values
            context = welcome_context(
                name=v["name"],
                ref=v["ref"],
                contact_name=v["contact_name"],
                partner_name=self.lookups.partner_name,
            )
            rendered = render("welcome", v["language"], context)
            messages.append(
                {
                    **self.outbox_defaults,
                    "dedupe_key": key,
                    "client_id": ids[v["ref_key"]],
                    "kind": "welcome",
                    "to_addr": v["contact_email"],
                    "subject": rendered.subject,
                    "body_text": rendered.text,
                    "body_html": rendered.html,
                    "language": rendered.language,
                }
            )
        if messages:
            bulk_insert(session.connection(), OutboxMessage.__table__, messages)

    def update(self, session, row: PreparedRow, client_id: int, *, dry_run: bool) -> bool:
        """Set what the row gives on an existing client; False when that changes nothing."""
        client = session.get(Client, client_id)
        groups = groups_of(session, [client.id])[client.id]
        users = assigned_of(session, [client.id])[client.id]
        integrations = [(k, str(s)) for k, s in integrations_of(session, client.id)]
        change = plan_update(client, row, groups=groups, users=users, integrations=integrations)
        if not change.changed:
            return False
        if dry_run:
            return True
        before = client_snapshot(
            client, groups=groups, users=users, integrations=[f"{k}:{s}" for k, s in integrations]
        )
        self._apply_update(session, client, change)
        after = client_snapshot(
            client,
            groups=change.groups.result,
            users=change.users.result,
            integrations=[f"{k}:{s}" for k, s in change.integrations.result],
        )
        session.add(
            AuditEvent(
                **self.event_actor,
                action="client.edit",
                entity="client",
                key=client.ref,
                before=to_jsonable(before),
                after=to_jsonable({**after, "via": "import"}),
            )
        )
        return True

    def _apply_update(self, session, client: Client, change: ClientChange) -> None:
        for name, value in change.fields.items():
            setattr(client, name, value)
        client.updated_at = utcnow()
        session.add(client)
        users = self.lookups.users_by_email
        integrations = self.lookups.integrations_by_key
        _replace_links(
            session.connection(),
            client.id,
            (ClientGroup, "group_name", change.groups, lambda g: {"group_name": g}),
            (ClientAssignment, "user_id", change.users, lambda e: {"user_id": users[e].id}),
            (
                ClientIntegration,
                "integration_id",
                change.integrations,
                lambda pair: {"integration_id": integrations[pair[0]].id, "state": pair[1]},
            ),
        )
        session.flush()


def _replace_links(conn, client_id: int, *lists) -> None:
    """Apply list deltas to link tables: delete what goes, then insert what comes (per list)."""
    for model, column, delta, row_of in lists:
        table = model.__table__
        if delta.remove:
            gone = [row_of(x)[column] for x in delta.remove]
            conn.execute(sa.delete(table).where(table.c.client_id == client_id, table.c[column].in_(gone)))
        if delta.add:
            conn.execute(sa.insert(table), [{"client_id": client_id, **row_of(x)} for x in delta.add])


def write_batch(session_scope, writer: Writer, rows: list[PreparedRow], options: ImportOptions):
    """Write one batch in its own transaction; (counts, rejected rows)."""
    try:
        with session_scope(readonly=options.dry_run) as s:
            counts = apply_batch(s, writer, rows, options, rejects := [])
    except DBAPIError:
        # One bad row (e.g. a reference another process just took) must not cost the batch:
        # redo it one row per transaction so only that row is rejected, with its line.
        counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
        rejects = []
        for row in rows:
            try:
                with session_scope(readonly=options.dry_run) as s:
                    one = apply_batch(s, writer, [row], options, rejects)
            except DBAPIError as exc:
                detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
                rejects.append(_reject(row, None, f"the store refused the row: {detail}"))
                continue
            for k, v in one.items():
                counts[k] += v
    return counts, rejects


def _reject(row: PreparedRow, column: str | None, reason: str) -> RowError:
    return RowError(row.record.line, column, reason, row.record.raw)


def _tune_sqlite(session) -> None:
    conn = session.connection()
    # A batch writes more than SQLite's default 1000-page WAL checkpoint threshold, so every
    # commit would also checkpoint (and fsync) the store; checkpoint about every 64 MB instead.
    conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
    # The default 2 MB page cache is far smaller than the indexes a large import updates.
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")


def apply_batch(
    session, writer: Writer, rows: list[PreparedRow], options: ImportOptions, rejects: list
) -> dict[str, int]:
    """Create, update, skip or reject each row of a batch in `session`; the counts of each."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    if not options.dry_run and session.bind.dialect.name == "sqlite":
        _tune_sqlite(session)
    existing = writer.existing(session, options.key, [r.key for r in rows])
    # Matched by name, new rows still need a free reference.
    new_refs = [r.prepared.values["ref_key"] for r in rows if r.key not in existing]
    taken = writer.existing(session, "ref", new_refs) if options.key == "name" else {}
    new: list[PreparedRow] = []
    for row in rows:
        found = existing.get(row.key)
        if not found:
            if row.prepared.values["ref_key"] in taken:
                rejects.append(
                    _reject(row, "ref", f"reference {row.prepared.ref!r} is taken by another client")
                )
            else:
                new.append(row)
        elif len(found) > 1:
            name = row.prepared.values["name"]
            rejects.append(
                _reject(row, options.key, f"{len(found)} clients are named {name!r}; import by ref")
            )
        elif options.on_existing == "skip":
            counts["skipped"] += 1
        elif options.on_existing == "fail":
            shown = row.prepared.values[options.key]
            rejects.append(_reject(row, options.key, f"client {shown!r} already exists (--on-existing fail)"))
        else:
            changed = writer.update(session, row, found[0], dry_run=options.dry_run)
            counts["updated" if changed else "unchanged"] += 1
    if not options.dry_run:
        writer.insert(session, new)
    counts["created"] += len(new)
    return counts
