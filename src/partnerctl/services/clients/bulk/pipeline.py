"""The import run: batches read and prepared in a forked worker, written on a thread, outcomes in file order."""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Pipe
from typing import Any

from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.clients.bulk.prepare import ImportOptions, PreparedRow, Preparer
from partnerctl.services.clients.bulk.readers import Record, RowError, Source
from partnerctl.services.clients.bulk.write import Writer, write_batch
from partnerctl.services.clients.onboarding import PreparedClient
from partnerctl.services.templates import Lookups, PreparedProduct, load_lookups


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0
    dry_run: bool = False

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged + self.skipped


def _batches(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_clients(
    session_scope: Callable[..., Any],
    actor_of: Callable[[Any], Any],
    source: Source,
    options: ImportOptions,
    *,
    on_error: Callable[[RowError], None],
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Onboard every record like `client add`; each batch commits on its own (a re-run skips what is in).

    `session_scope(readonly=...)` opens one transaction per batch. Bad rows go to `on_error` and
    never stop the others; a row is written wholly or not at all.
    """
    # Each row allocates a few dozen short-lived objects; with the default thresholds the cyclic
    # collector runs every few rows and keeps re-walking everything loaded at start-up (measured:
    # ~15% of the import). Park what exists now out of its reach and collect less often.
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        options.check()
        with session_scope(readonly=True) as s:
            actor = actor_of(s)
            require_admin(actor, "client import")
            lookups = load_lookups(s)
            event_actor = audit.actor_fields(s, actor)
            # Detached with their loaded values: the read-only scope's rollback would expire them.
            s.expunge_all()
        writer = Writer(lookups, actor.email, event_actor)
        run = _Run(session_scope, writer, options, on_error, on_progress)
        with _PreparedBatches(
            source.records, Preparer(lookups, options, actor), lookups, options.batch_size
        ) as batches:
            run.all(batches)
        return run.summary
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _duplicate(row: PreparedRow, seen: int, key: str) -> RowError:
    what = "reference" if key == "ref" else "name"
    shown = row.prepared.values["ref" if key == "ref" else "name"]
    if key == "ref" and row.prepared.ref_derived:
        what = "reference (derived from the name; give each row a ref)"
    return RowError(
        row.record.line, key, f"duplicate {what} {shown!r} (first on line {seen})", row.record.raw
    )


class _Run:
    """One import's batches: duplicates within the file rejected, writes on a thread, outcomes in order.

    Batch N is written (its own transaction) on a writer thread while batch N+1 is read and
    prepared (in a worker process where it can fork, see _PreparedBatches, else here: the
    database driver releases the GIL while the store works, so the two still overlap somewhat).
    One batch at most is in flight, and its outcome (rejections, counts, progress) is reported
    before the next batch's, so the output is in file order as without the thread.
    """

    def __init__(self, session_scope, writer: Writer, options: ImportOptions, on_error, on_progress) -> None:
        self.session_scope = session_scope
        self.writer = writer
        self.options = options
        self.on_error = on_error
        self.on_progress = on_progress
        self.summary = ImportSummary(dry_run=options.dry_run)
        self.first_line: dict[str, int] = {}
        self.pending: tuple[Any, int] | None = None

    def reject(self, error: RowError) -> None:
        self.summary.rejected += 1
        self.on_error(error)

    def all(self, batches: Iterator[tuple[int, list[Any]]]) -> None:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="partnerctl-import") as pool:
            try:
                for size, results in batches:
                    rows, errors = self.split(results)
                    self.settle()
                    self.summary.rows += size
                    for error in errors:
                        self.reject(error)
                    if rows:
                        future = pool.submit(write_batch, self.session_scope, self.writer, rows, self.options)
                        self.pending = (future, size)
                    elif self.on_progress is not None:
                        self.on_progress(size)
                self.settle()
            finally:
                if self.pending is not None:
                    self.pending[0].cancel()

    def split(self, results: list[Any]) -> tuple[list[PreparedRow], list[RowError]]:
        """A batch's rows to write, and its rejections (bad rows, keys already earlier in the file)."""
        rows: list[PreparedRow] = []
        errors: list[RowError] = []
        for result in results:
            if isinstance(result, RowError):
                errors.append(result)
                continue
            seen = self.first_line.setdefault(result.key, result.record.line)
            if seen != result.record.line:
                errors.append(_duplicate(result, seen, self.options.key))
                continue
            rows.append(result)
        return rows, errors

    def settle(self) -> None:
        """Wait for the batch in flight and report its outcome."""
        if self.pending is None:
            return
        future, size = self.pending
        self.pending = None
        counts, errors = future.result()
        for error in errors:
            self.reject(error)
        for name in ("created", "updated", "unchanged", "skipped"):
            setattr(self.summary, name, getattr(self.summary, name) + counts[name])
        if self.on_progress is not None:
            self.on_progress(size)


class _PreparedBatches:
    """(rows read, [PreparedRow | RowError in file order]) per batch of the source.

    Where processes can be forked, reading and preparing run in a worker process that ships each
    prepared batch back as compact plain data (catalogue objects as ids), so this process only
    writes: preparing is pure Python and would otherwise hold the GIL the writer thread needs.
    The pipe holds at most about one batch, so the worker is at most a batch or two ahead and
    memory stays flat. The worker ignores Ctrl-C; leaving the `with` block always ends it.
    """

    def __init__(self, records: Iterator[Record], preparer: Preparer, lookups: Lookups, size: int) -> None:
        self.records = records
        self.preparer = preparer
        self.lookups = lookups
        self.size = size
        self.pid: int | None = None
        self.conn = None

    def __enter__(self) -> _PreparedBatches:
        # PARTNERCTL_IMPORT_WORKER=0 keeps everything in this process (where forking is unwelcome).
        if not hasattr(os, "fork") or os.environ.get("PARTNERCTL_IMPORT_WORKER") == "0":
            return self
        # os.fork, not multiprocessing.Process: that closes stdin in the child, which `-` reads.
        receive, send = Pipe(duplex=False)
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                receive.close()
                _prepare_worker(send, self.records, self.preparer, self.size)
                code = 0
            finally:
                os._exit(code)
        send.close()
        self.pid = pid
        self.conn = receive
        return self

    def __exit__(self, *exc_info) -> None:
        pid, self.pid = self.pid, None
        if pid is None:
            return
        self.conn.close()  # a worker still sending gets a broken pipe and ends
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)

    def __iter__(self) -> Iterator[tuple[int, list[Any]]]:
        if self.pid is None:
            prepare = self.preparer.prepare
            for batch in _batches(self.records, self.size):
                yield len(batch), [r.error if r.error is not None else prepare(r) for r in batch]
            return
        unpack = _Unpacker(self.lookups)
        while True:
            try:
                message = pickle.loads(self.conn.recv_bytes())
            except EOFError:
                raise RuntimeError("the import's preparing process ended unexpectedly") from None
            kind, payload = message
            if kind == "done":
                return
            if kind == "error":
                raise payload
            size, packed = payload
            yield size, [p if isinstance(p, RowError) else unpack(p) for p in packed]


def _prepare_worker(send, records: Iterator[Record], preparer: Preparer, size: int) -> None:
    """In the worker process: read, prepare, and send each batch (see _PreparedBatches)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends this process
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    dumps = pickle.dumps
    try:
        prepare = preparer.prepare
        for batch in _batches(records, size):
            packed = []
            for record in batch:
                if record.error is not None:
                    packed.append(record.error)
                    continue
                result = prepare(record)
                packed.append(result if isinstance(result, RowError) else _pack(result))
            send.send_bytes(dumps(("batch", (len(batch), packed)), pickle.HIGHEST_PROTOCOL))
        send.send_bytes(dumps(("done", None)))
    except (BrokenPipeError, OSError):
        return  # the parent is gone or stopped reading
    except BaseException as exc:  # noqa: BLE001 - shipped to the parent, which raises it
        try:
            message = dumps(("error", exc))
        except Exception:  # noqa: BLE001
            message = dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        with contextlib.suppress(OSError):
            send.send_bytes(message)


def _pack(row: PreparedRow) -> tuple:
    """A prepared row as plain data: catalogue objects (users, integrations, product, template) by id."""
    p = row.prepared
    product = p.product
    return (
        row.record.line,
        row.record.cells,
        row.record.raw,
        p.values,
        p.groups,
        [u.id for u in p.users],
        [i.id for i in p.integrations],
        None if product is None else (product.product.id, product.payer, product.seats),
        None if p.template is None else p.template.id,
        p.applied,
        p.ref_derived,
        p.welcome,
        row.status,
        row.states,
        row.key,
    )


class _Unpacker:
    """Turns `_pack`'s plain data back into a PreparedRow over this process's catalogue objects."""

    def __init__(self, lookups: Lookups) -> None:
        self.users = {u.id: u for u in lookups.users_by_email.values()}
        self.integrations = {i.id: i for i in lookups.integrations_by_key.values()}
        self.products = {p.id: p for p in lookups.products_by_key.values()}
        self.templates = {t.id: t for t in lookups.templates_by_key.values()}
        if lookups.default_template is not None:
            self.templates.setdefault(lookups.default_template.id, lookups.default_template)
        self._products: dict[tuple, PreparedProduct] = {}

    def _product(self, packed: tuple | None) -> PreparedProduct | None:
        if packed is None:
            return None
        found = self._products.get(packed)
        if found is None:
            found = self._products[packed] = PreparedProduct(self.products[packed[0]], packed[1], packed[2])
        return found

    def __call__(self, packed: tuple) -> PreparedRow:
        (line, cells, raw, values, groups, user_ids, integration_ids, product, template_id,
         applied, ref_derived, welcome, status, states, key) = packed  # fmt: skip
        users, integrations = self.users, self.integrations
        prepared = PreparedClient(
            values=values,
            groups=groups,
            users=[users[u] for u in user_ids],
            integrations=[integrations[i] for i in integration_ids],
            product=self._product(product),
            template=None if template_id is None else self.templates[template_id],
            applied=applied,
            ref_derived=ref_derived,
            welcome=welcome,
        )
        return PreparedRow(Record(line, cells, raw), prepared, status, states, key)
