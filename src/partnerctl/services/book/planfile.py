"""The plan file `book plan --out` writes and `book apply` reads: the changes, the content hash of
every file, and the fingerprint of the store state the plan was computed against."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from partnerctl.errors import Conflict, InvalidInput
from partnerctl.services.book.plan import ACTIONS, KINDS, Change, Plan
from partnerctl.values import to_jsonable

PLAN_FORMAT = "partnerctl book plan"
PLAN_VERSION = 1
# The format key is written first, so a plan is known by its first line or two without parsing it.
_MARK = json.dumps({"format": PLAN_FORMAT})[1:-1]


@dataclass
class SavedPlan:
    directory: Path
    prune: bool
    scope: str
    fingerprint: str
    files: dict[str, str]
    changes: list[Change]


def save_plan(plan: Plan, path: Path, *, directory: Path, actor: str) -> None:
    """Write the plan to `path`; an existing file is replaced only when it is a plan itself."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory")
    if path.exists() and not _is_plan(path):
        raise Conflict(f"refusing to overwrite {path}: it is not a partnerctl plan")
    doc = {
        "format": PLAN_FORMAT,
        "version": PLAN_VERSION,
        "directory": str(directory.resolve()),
        "prune": plan.prune,
        "scope": plan.scope,
        "planned_by": actor,
        "fingerprint": plan.fingerprint,
        "files": dict(sorted(plan.files.items())),
        **plan.as_json(),
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(to_jsonable(doc), out, indent=1, ensure_ascii=False)
            out.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None


def _is_plan(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return _MARK in f.read(200)
    except (OSError, UnicodeDecodeError):
        return False


def load_plan(path: Path) -> SavedPlan:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"no such plan file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != PLAN_FORMAT:
        raise InvalidInput(
            f"{path} is not a partnerctl plan", hint="make one with `partnerctl book plan DIR --out PLAN`"
        )
    if doc.get("version") != PLAN_VERSION:
        raise InvalidInput(f"{path} is a plan of another version of partnerctl: run `book plan` again")
    try:
        return SavedPlan(
            directory=Path(_typed(doc, "directory", str)),
            prune=_typed(doc, "prune", bool),
            scope=_typed(doc, "scope", str),
            fingerprint=_typed(doc, "fingerprint", str),
            files=_typed(doc, "files", dict),
            changes=[_change(c) for c in _typed(doc, "changes", list)],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{path} is not a valid plan ({exc}): run `book plan` again") from None


def _typed(doc: dict, key: str, kind: type) -> Any:
    value = doc[key]
    if not isinstance(value, kind):
        raise TypeError(f"{key} is not a {kind.__name__}")
    return value


def _change(raw: Any) -> Change:
    if not isinstance(raw, dict):
        raise TypeError("a change is not an object")
    change = Change(_typed(raw, "action", str), _typed(raw, "kind", str), _typed(raw, "key", str),
                    _typed(raw, "fields", dict))  # fmt: skip
    if change.action not in ACTIONS or change.kind not in KINDS:
        raise ValueError(f"unknown change {change.action} {change.kind}")
    if not all(isinstance(v, dict) and "from" in v and "to" in v for v in change.fields.values()):
        raise ValueError(f"the fields of {change.kind} {change.key} are not from/to pairs")
    return change
