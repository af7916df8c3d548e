"""The dispatch queue on ``workflow.db``: enqueue, list, stats, hold, release, drop, reorder,
an atomic lease in priority-then-FIFO order, and completion (plugin protocol §2.6 semantics).

Every mutation is one ``BEGIN IMMEDIATE`` transaction, so concurrent processes never lease
the same entry twice and the one-entry-per-subject rule of :meth:`QueueService.enqueue` holds
under races. Bulk verbs with explicit entry ids are all-or-nothing: an unknown id or an entry
in the wrong state changes nothing and raises.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from animus_core._queue_history import record_queue_event
from animus_core._queue_lease import LEASE_SQL, LEASE_SQL_AFTER
from animus_core._queue_models import (
    ENTRY_COLUMNS,
    BulkChange,
    QueueEntry,
    QueuePage,
    QueueStats,
)
from animus_core._queue_rows import (
    entry_not_found,
    event_ref,
    fetch_entries,
    parse_statuses,
    placeholders,
    status_of,
    wrong_state,
)
from animus_core._queue_stats import COMPLETION_STATUSES, queue_stats
from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError
from animus_protocol.statuses import Priority
from animus_protocol.subjects import (
    KIND_CUSTOM,
    KIND_REQUIREMENT,
    KIND_TASK,
    SubjectDispatch,
    SubjectRef,
    canonical_subject_kind,
)
from animus_protocol.timeutil import format_rfc3339, parse_rfc3339, utc_now_str

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = ["BulkChange", "QueueEntry", "QueuePage", "QueueService", "QueueStats"]

MAX_LEASE = 1000
_PAST = {"hold": "held", "release": "released", "drop": "dropped"}
_DISPLAY_ORDER = ("assigned", "pending", "held", "completed", "failed", "cancelled", "dropped")
_PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


_SELECT_ONE = f"SELECT {ENTRY_COLUMNS} FROM queue_entries WHERE entry_id = ?"  # noqa: S608


def _rank(priority: Priority | None) -> int:
    return _PRIORITY_RANK.get(priority.value if priority else "medium", 2)


class QueueService:
    """The queue of one project (``hub.queue``)."""

    def __init__(self, hub: ServiceHub) -> None:
        self.hub = hub
        self._config_refs: tuple[str, str | None, builtins.list[str]] | None = None

    # -- enqueue ---------------------------------------------------------------------------

    def enqueue(self, dispatch: SubjectDispatch, *, run_at: str | None = None) -> QueueEntry:
        """Queue ``dispatch``; refuses a subject that already has a queued entry.

        The duplicate check and the insert share one write transaction, so two processes
        enqueueing the same subject at once get one entry and one ConflictError.
        """
        ref = dispatch.subject
        key = dispatch.subject_key
        if not key:
            raise InvalidInputError(
                "the dispatch subject has neither an id nor a title",
                hint="pass a subject such as task:TASK-001",
            )
        run_at_text = format_rfc3339(parse_rfc3339(run_at)) if run_at else None
        task_id = ref.id if ref.kind == KIND_TASK else None
        now = utc_now_str()
        db = self.hub.db
        with db.transaction() as conn:
            existing = conn.execute(
                "SELECT entry_id, status FROM queue_entries "
                "WHERE subject_key = ? AND status IN ('pending', 'assigned', 'held') LIMIT 1",
                (key,),
            ).fetchone()
            if existing is not None:
                raise ConflictError(
                    f"subject {key} is already queued as {existing['entry_id']} "
                    f"({existing['status']})",
                    details={"subject": key, "entry_id": existing["entry_id"]},
                    hint=f"drop it first (animus queue drop {existing['entry_id']} --yes) "
                    "or wait until its run finishes",
                )
            seq = db.next_number("queue_seq")
            entry_id = f"QE-{seq:06d}"
            conn.execute(
                "INSERT INTO queue_entries(entry_id, seq, subject_id, subject_key, subject_kind,"
                " task_id, workflow_ref, status, priority_rank, trigger_source, requested_at,"
                " enqueued_at, run_at, dispatch_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)",
                (
                    entry_id,
                    seq,
                    ref.id or key,
                    key,
                    ref.kind,
                    task_id,
                    dispatch.workflow_ref or None,
                    _rank(dispatch.priority),
                    dispatch.trigger_source,
                    dispatch.requested_at,
                    now,
                    run_at_text,
                    dispatch.model_dump_json(by_alias=True, exclude_none=True),
                ),
            )
            record_queue_event(
                conn,
                "queue.enqueued",
                {"entry_id": entry_id, "task_id": task_id, "subject_key": key},
                ts=now,
                message=f"queued {key} as {entry_id} (workflow {dispatch.workflow_ref})",
                status="pending",
                trigger_source=dispatch.trigger_source,
                workflow_ref=dispatch.workflow_ref,
            )
            row = conn.execute(_SELECT_ONE, (entry_id,)).fetchone()
        self.hub.nudge_daemon("enqueue")
        return QueueEntry.from_row(row)

    def enqueue_subject(
        self,
        kind: str,
        subject_id: str,
        *,
        workflow_ref: str | None = None,
        priority: str | Priority | None = None,
        input: Any = None,
        vars: dict[str, str] | None = None,
        trigger_source: str = "manual",
        run_at: str | None = None,
    ) -> QueueEntry:
        """Queue a task, a requirement or a custom subject by id (checks that it exists).

        Without ``priority`` a task keeps its own priority. Without ``workflow_ref`` the
        project's default workflow is used.
        """
        wire_kind = canonical_subject_kind(kind)
        if not subject_id.strip():
            raise InvalidInputError("the subject id is empty", hint="pass e.g. TASK-001")
        parsed_priority = Priority.parse(priority) if priority is not None else None
        own_priority = self._subject_priority(wire_kind, subject_id)
        if parsed_priority is None and own_priority is not None:
            parsed_priority = Priority.lookup(own_priority)
        dispatch = SubjectDispatch(
            subject=SubjectRef(kind=wire_kind, id=subject_id),
            workflow_ref=self._resolve_ref(workflow_ref),
            input=input,
            vars=dict(vars or {}),
            priority=parsed_priority,
            trigger_source=trigger_source,
        )
        return self.enqueue(dispatch, run_at=run_at)

    def enqueue_custom(
        self,
        title: str,
        description: str | None = None,
        *,
        workflow_ref: str | None = None,
        priority: str | Priority | None = None,
        input: Any = None,
        vars: dict[str, str] | None = None,
        trigger_source: str = "manual",
        run_at: str | None = None,
    ) -> QueueEntry:
        """Queue a custom subject known only by its title (the title is its key)."""
        if not title.strip():
            raise InvalidInputError("the title is empty", hint="pass --title 'what to do'")
        dispatch = SubjectDispatch(
            subject=SubjectRef(kind=KIND_CUSTOM, title=title.strip(), description=description),
            workflow_ref=self._resolve_ref(workflow_ref),
            input=input,
            vars=dict(vars or {}),
            priority=Priority.parse(priority) if priority is not None else None,
            trigger_source=trigger_source,
        )
        return self.enqueue(dispatch, run_at=run_at)

    def _subject_priority(self, kind: str, subject_id: str) -> str | None:
        """The subject's own priority; raises NotFoundError for an unknown built-in subject."""
        table = {KIND_TASK: "tasks", KIND_REQUIREMENT: "requirements"}.get(kind)
        if table is None:
            if kind != KIND_CUSTOM:
                # A plugin kind: its backend must know the subject (unknown kind = invalid).
                self.hub.subjects.backend(kind).get(subject_id)
            return None
        with self.hub.db.read() as conn:
            row = conn.execute(
                f"SELECT priority FROM {table} WHERE id = ?",  # noqa: S608 - table from a fixed map
                (subject_id,),
            ).fetchone()
        if row is None:
            noun = "task" if kind == KIND_TASK else "requirement"
            raise NotFoundError(
                f"{noun} {subject_id} not found",
                details={"kind": kind, "id": subject_id},
                hint=f"list them with 'animus {noun} list'",
            )
        if kind == KIND_REQUIREMENT:
            return None  # MoSCoW priorities do not map onto dispatch priorities
        return str(row["priority"]) if row["priority"] else None

    def _workflows(self) -> tuple[str | None, builtins.list[str]]:
        """(default ref, every defined ref) of the project's configuration.

        Reloaded only when the YAML files change (their fingerprint), so a long-lived daemon
        sees a new workflow without paying a YAML parse per enqueue.
        """
        from animus_config import config_fingerprint

        fingerprint = config_fingerprint(self.hub.project_root)
        if self._config_refs is None or self._config_refs[0] != fingerprint:
            config = self.hub.load_config().config
            refs = [w.id for w in config.workflows]
            default = config.default_workflow_ref or (refs[0] if refs else None)
            self._config_refs = (fingerprint, default, refs)
        return self._config_refs[1], self._config_refs[2]

    def default_workflow_ref(self) -> str:
        """The project's default workflow (``default_workflow_ref``, else the first one)."""
        try:
            ref, _ = self._workflows()
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"no workflow_ref given and the workflow configuration does not load: "
                f"{exc.message}",
                hint="fix .animus/workflows.yaml (animus workflow config validate) or "
                "pass --workflow-ref",
            ) from exc
        if not ref:
            raise InvalidInputError(
                "no workflow_ref given and the project defines no workflow",
                hint="add a workflow to .animus/workflows.yaml or pass --workflow-ref",
            )
        return ref

    def _resolve_ref(self, workflow_ref: str | None) -> str:
        """An explicit ref must name a defined workflow (unchecked if the config is broken)."""
        if not workflow_ref:
            return self.default_workflow_ref()
        try:
            _, refs = self._workflows()
        except InvalidInputError:
            return workflow_ref  # the runner reports the configuration problem
        if workflow_ref not in refs:
            raise InvalidInputError(
                f"unknown workflow {workflow_ref!r}",
                details={"workflow_ref": workflow_ref, "known": refs},
                hint=f"defined workflows: {', '.join(refs) or 'none'}",
            )
        return workflow_ref

    # -- reading ---------------------------------------------------------------------------

    def get(self, entry_id: str) -> QueueEntry:
        with self.hub.db.read() as conn:
            row = conn.execute(_SELECT_ONE, (entry_id,)).fetchone()
        if row is None:
            raise entry_not_found([entry_id])
        return QueueEntry.from_row(row)

    def list(
        self,
        status: str | Iterable[str] | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
    ) -> QueuePage:
        """Entries in dispatch order. ``status``: None = still queued, ``"all"``, or names."""
        statuses = parse_statuses(status)
        if limit < 1 or offset < 0:
            raise InvalidInputError(
                f"invalid paging limit={limit} offset={offset}",
                hint="limit must be at least 1 and offset at least 0",
            )
        wanted = [s for s in _DISPLAY_ORDER if not statuses or s in statuses]
        rows: builtins.list[sqlite3.Row] = []
        with self.hub.db.read() as conn:
            counts = {
                str(r[0]): int(r[1])
                for r in conn.execute(
                    "SELECT status, count(*) FROM queue_entries GROUP BY status"
                ).fetchall()
            }
            total = sum(counts.get(s, 0) for s in wanted)
            # One ordered index walk per status (assigned first, then pending, held, ...),
            # so a page never sorts the whole queue.
            skip, room = offset, limit
            for name in wanted:
                count = counts.get(name, 0)
                if skip >= count:
                    skip -= count
                    continue
                if room <= 0:
                    break
                part = conn.execute(
                    f"SELECT {ENTRY_COLUMNS} FROM queue_entries "  # noqa: S608 - constant columns
                    "INDEXED BY idx_queue_status_order WHERE status = ? "
                    "ORDER BY priority_rank, requested_at, seq LIMIT ? OFFSET ?",
                    (name, room, skip),
                ).fetchall()
                rows += part
                room -= len(part)
                skip = 0
        return QueuePage(
            entries=[QueueEntry.from_row(r) for r in rows], total=total, limit=limit, offset=offset
        )

    def stats(self) -> QueueStats:
        with self.hub.db.read() as conn:
            return queue_stats(conn, utc_now_str())

    # -- bulk verbs ------------------------------------------------------------------------

    def hold(
        self,
        entry_ids: Sequence[str] = (),
        *,
        subject_id: str | None = None,
        all: bool = False,
        reason: str | None = None,
        dry_run: bool = False,
    ) -> BulkChange:
        """Pending → held (held entries are never leased)."""
        now = utc_now_str()
        return self._bulk(
            "hold",
            from_statuses=("pending",),
            update_sql="UPDATE queue_entries SET status = 'held', held_at = ?, hold_reason = ? "
            "WHERE entry_id = ?",
            update_params=(now, reason),
            entry_ids=entry_ids,
            subject_id=subject_id,
            all_entries=all,
            dry_run=dry_run,
        )

    def release(
        self,
        entry_ids: Sequence[str] = (),
        *,
        subject_id: str | None = None,
        all: bool = False,
        dry_run: bool = False,
    ) -> BulkChange:
        """Held → pending, keeping its place in the order."""
        change = self._bulk(
            "release",
            from_statuses=("held",),
            update_sql="UPDATE queue_entries SET status = 'pending', held_at = NULL, "
            "hold_reason = NULL WHERE entry_id = ?",
            update_params=(),
            entry_ids=entry_ids,
            subject_id=subject_id,
            all_entries=all,
            dry_run=dry_run,
        )
        if change.changed and not change.dry_run:
            self.hub.nudge_daemon("release")
        return change

    def drop(
        self,
        entry_ids: Sequence[str] = (),
        *,
        subject_id: str | None = None,
        all: bool = False,
        dry_run: bool = False,
    ) -> BulkChange:
        """Pending or held → dropped (kept as a record, never leased again)."""
        now = utc_now_str()
        return self._bulk(
            "drop",
            from_statuses=("pending", "held"),
            update_sql="UPDATE queue_entries SET status = 'dropped', completed_at = ? "
            "WHERE entry_id = ?",
            update_params=(now,),
            entry_ids=entry_ids,
            subject_id=subject_id,
            all_entries=all,
            dry_run=dry_run,
        )

    def _bulk(
        self,
        action: str,
        *,
        from_statuses: tuple[str, ...],
        update_sql: str,
        update_params: tuple[Any, ...],
        entry_ids: Sequence[str],
        subject_id: str | None,
        all_entries: bool,
        dry_run: bool,
    ) -> BulkChange:
        ids = list(dict.fromkeys(entry_ids))
        chosen = sum((bool(ids), subject_id is not None, all_entries))
        if chosen != 1:
            raise InvalidInputError(
                f"queue {action} needs exactly one of: entry ids, a subject id, or all",
                hint=f"e.g. 'animus queue {action} QE-000001', "
                f"'--subject-id TASK-001' or '--all --yes'",
            )
        result = BulkChange(action=action, dry_run=dry_run)
        now = utc_now_str()
        with self.hub.db.transaction() as conn:
            if ids:
                rows = conn.execute(
                    f"SELECT entry_id, status, task_id, subject_key FROM queue_entries "  # noqa: S608
                    f"WHERE entry_id IN ({placeholders(ids)})",
                    ids,
                ).fetchall()
                found = {r["entry_id"]: r["status"] for r in rows}
                missing = [i for i in ids if i not in found]
                if missing:
                    raise entry_not_found(missing)
                wrong = {i: s for i, s in found.items() if s not in from_statuses}
                if wrong:
                    listed = ", ".join(f"{i} is {s}" for i, s in wrong.items())
                    raise ConflictError(
                        f"cannot {action}: {listed} (only {' or '.join(from_statuses)} "
                        "entries can be changed)",
                        details={"entries": wrong},
                        hint="check their state with 'animus queue list --status all'",
                    )
                targets = ids
            else:
                if subject_id is not None:
                    rows = conn.execute(
                        "SELECT entry_id, status, task_id, subject_key FROM queue_entries "
                        "WHERE subject_key = ? AND status IN ('pending', 'assigned', 'held') "
                        "ORDER BY seq",
                        (subject_id,),
                    ).fetchall()
                    if not rows:
                        raise NotFoundError(
                            f"subject {subject_id} has no queued entry",
                            details={"subject_id": subject_id},
                            hint="see what is queued with 'animus queue list'",
                        )
                else:
                    rows = conn.execute(
                        "SELECT entry_id, status, task_id, subject_key FROM queue_entries "
                        "WHERE status IN ('pending', 'assigned', 'held') ORDER BY seq"
                    ).fetchall()
                targets = []
                for row in rows:
                    if row["status"] in from_statuses:
                        targets.append(row["entry_id"])
                    else:
                        result.skipped.append(
                            {"entry_id": row["entry_id"], "status": row["status"]}
                        )
            if not dry_run:
                by_id = {r["entry_id"]: r for r in rows}
                for entry_id in targets:
                    conn.execute(update_sql, (*update_params, entry_id))
                    record_queue_event(
                        conn,
                        f"queue.{_PAST[action]}",
                        by_id[entry_id],
                        ts=now,
                        message=f"{_PAST[action]} {entry_id}",
                    )
            result.changed = targets
        return result

    def reorder(self, subject_ids: Sequence[str]) -> BulkChange:
        """Move the pending entries of ``subject_ids`` to the front, in the given order.

        The moved entries take the most urgent pending priority rank and request times just
        before the earliest pending one; their dispatch (and its priority) is unchanged.
        """
        keys = list(dict.fromkeys(subject_ids))
        if not keys:
            raise InvalidInputError(
                "queue reorder needs at least one subject id",
                hint="e.g. 'animus queue reorder TASK-003 TASK-001'",
            )
        result = BulkChange(action="reorder")
        with self.hub.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT entry_id, subject_key FROM queue_entries "  # noqa: S608 - placeholders
                f"WHERE status = 'pending' AND subject_key IN ({placeholders(keys)})",
                keys,
            ).fetchall()
            by_key: dict[str, list[str]] = {}
            for row in rows:
                by_key.setdefault(row["subject_key"], []).append(row["entry_id"])
            missing = [k for k in keys if k not in by_key]
            if missing:
                raise NotFoundError(
                    f"no pending queue entry for: {', '.join(missing)}",
                    details={"subject_ids": missing},
                    hint="only pending entries can be reordered; see 'animus queue list'",
                )
            head = conn.execute(
                "SELECT min(priority_rank) AS rank, min(requested_at) AS first "
                "FROM queue_entries WHERE status = 'pending'"
            ).fetchone()
            first = parse_rfc3339(str(head["first"]))
            ordered = [e for k in keys for e in by_key[k]]
            for index, entry_id in enumerate(ordered):
                at = first - timedelta(microseconds=len(ordered) - index)
                conn.execute(
                    "UPDATE queue_entries SET priority_rank = ?, requested_at = ? "
                    "WHERE entry_id = ?",
                    (int(head["rank"]), format_rfc3339(at), entry_id),
                )
            result.changed = ordered
        return result

    # -- lease and completion --------------------------------------------------------------

    def lease(
        self,
        max: int,
        *,
        exclude_subjects: Iterable[str] = (),
        workflow_ids: Sequence[str] | None = None,
    ) -> builtins.list[QueueEntry]:
        """Atomically move up to ``max`` dispatchable entries pending → assigned.

        Order: priority rank, then ``requested_at`` (FIFO), then enqueue sequence. Skipped
        and left pending: subjects with an assigned entry or an active (pending, running,
        paused) workflow run, subjects in ``exclude_subjects``, tasks whose ``blocked-by``
        dependencies are not done, and entries whose ``run_at`` is still in the future. At
        most one entry per subject is handed out. ``workflow_ids``, when given, must hold
        ``max`` ids; the n-th leased entry is assigned the n-th id.
        """
        if max < 1 or max > MAX_LEASE:
            raise InvalidInputError(
                f"lease size must be between 1 and {MAX_LEASE}, not {max}",
                hint="lease a smaller batch",
            )
        if workflow_ids is not None and len(workflow_ids) != max:
            raise InvalidInputError(
                f"lease of {max} got {len(workflow_ids)} workflow ids",
                hint="pass exactly one workflow id per requested entry",
            )
        now = utc_now_str()
        params: dict[str, Any] = {
            "now": now,
            "excluded": json.dumps(sorted(set(exclude_subjects))),
            "batch": max + 8,
        }
        with self.hub.db.transaction() as conn:
            chosen: list[str] = []
            seen: set[str] = set()
            rows = conn.execute(LEASE_SQL, params).fetchall()
            while rows:
                for row in rows:
                    if row["subject_key"] in seen:
                        continue  # a second entry of a subject leased in this batch
                    seen.add(row["subject_key"])
                    chosen.append(row["entry_id"])
                    if len(chosen) == max:
                        break
                if len(chosen) == max or len(rows) < params["batch"]:
                    break
                last = rows[-1]
                params.update(
                    rank=last["priority_rank"], requested_at=last["requested_at"], seq=last["seq"]
                )
                rows = conn.execute(LEASE_SQL_AFTER, params).fetchall()
            for index, entry_id in enumerate(chosen):
                workflow_id = workflow_ids[index] if workflow_ids is not None else None
                conn.execute(
                    "UPDATE queue_entries SET status = 'assigned', assigned_at = ?, "
                    "workflow_id = ? WHERE entry_id = ?",
                    (now, workflow_id, entry_id),
                )
            leased = fetch_entries(conn, chosen)
            for entry in [e for e in leased if e.problem]:
                self._set_aside(conn, entry, now)
            leased = [e for e in leased if not e.problem]
            for entry in leased:
                record_queue_event(
                    conn,
                    "queue.leased",
                    event_ref(entry),
                    ts=now,
                    message=f"leased {entry.entry_id} for dispatch",
                    status="assigned",
                    workflow_id=entry.workflow_id,
                )
            return leased

    def _set_aside(self, conn: sqlite3.Connection, entry: QueueEntry, now: str) -> None:
        """Hold an entry whose dispatch does not parse (kept for inspection, not lost)."""
        conn.execute(
            "UPDATE queue_entries SET status = 'held', assigned_at = NULL, workflow_id = NULL, "
            "held_at = ?, hold_reason = ? WHERE entry_id = ?",
            (now, entry.problem, entry.entry_id),
        )
        self.hub.errors.record(
            "queue",
            f"queue entry {entry.entry_id} held: {entry.problem}",
            task_id=entry.task_id,
            details={"entry_id": entry.entry_id, "subject_key": entry.subject_key},
        )

    def mark_assigned(self, entry_id: str, workflow_id: str) -> QueueEntry:
        """Record the run an assigned entry became."""
        with self.hub.db.transaction() as conn:
            status = status_of(conn, entry_id)
            if status != "assigned":
                raise wrong_state(entry_id, status, "assigned", "mark it assigned")
            conn.execute(
                "UPDATE queue_entries SET workflow_id = ? WHERE entry_id = ?",
                (workflow_id, entry_id),
            )
            (entry,) = fetch_entries(conn, [entry_id])
        return entry

    def complete(
        self, entry_id: str, status: str = "completed", workflow_id: str | None = None
    ) -> QueueEntry:
        """Assigned (or pending) → completed | failed | cancelled."""
        final = status.strip().lower().replace("canceled", "cancelled")
        if final not in COMPLETION_STATUSES:
            raise InvalidInputError(
                f"invalid completion status {status!r}; accepted: {', '.join(COMPLETION_STATUSES)}",
                hint="use completed, failed or cancelled",
            )
        with self.hub.db.transaction() as conn:
            current = status_of(conn, entry_id)
            if current not in ("assigned", "pending"):
                raise wrong_state(entry_id, current, "assigned", "complete it")
            now = utc_now_str()
            conn.execute(
                "UPDATE queue_entries SET status = ?, completed_at = ?, "
                "workflow_id = coalesce(?, workflow_id) WHERE entry_id = ?",
                (final, now, workflow_id, entry_id),
            )
            (entry,) = fetch_entries(conn, [entry_id])
            record_queue_event(
                conn,
                f"queue.{final}",
                event_ref(entry),
                ts=now,
                message=f"{entry_id} {final}",
                status=final,
                workflow_id=entry.workflow_id,
            )
        return entry

    def release_pending(self, entry_id: str, reason: str | None = None) -> QueueEntry:
        """Assigned → pending (a dispatch that did not start); it keeps its place."""
        with self.hub.db.transaction() as conn:
            current = status_of(conn, entry_id)
            if current != "assigned":
                raise wrong_state(entry_id, current, "assigned", "release it back")
            conn.execute(
                "UPDATE queue_entries SET status = 'pending', assigned_at = NULL, "
                "workflow_id = NULL, hold_reason = ? WHERE entry_id = ?",
                (reason, entry_id),
            )
            (entry,) = fetch_entries(conn, [entry_id])
            record_queue_event(
                conn,
                "queue.released-pending",
                event_ref(entry),
                ts=utc_now_str(),
                message=f"{entry_id} back to pending" + (f": {reason}" if reason else ""),
                status="pending",
            )
        return entry

    def entry_for_subject(self, subject_key: str) -> QueueEntry | None:
        """The still-queued entry of a subject, if any."""
        with self.hub.db.read() as conn:
            row = conn.execute(
                f"SELECT {ENTRY_COLUMNS} FROM queue_entries WHERE subject_key = ? "  # noqa: S608
                "AND status IN ('pending', 'assigned', 'held') ORDER BY seq LIMIT 1",
                (subject_key,),
            ).fetchone()
        return None if row is None else QueueEntry.from_row(row)
