"""The lease query: the next dispatchable pending entries, straight off the order index.

The outer scan walks ``idx_queue_status_order`` (status, priority_rank, requested_at, seq),
so rows come out already in dispatch order and SQLite stops after ``LIMIT`` matches. The
busy subjects (an assigned entry, an active workflow run, or excluded by the caller) are
few, so they are collected once into a materialized set and each candidate costs one probe
into it; only task entries pay the dependency probe. A skipped entry is simply not
selected, so it stays pending in place (head-of-line entries for a busy subject keep their
turn). A ``blocked-by`` dependency on a task that no longer exists counts as unmet, as in
``TaskService.unmet_dependencies``.
"""

from __future__ import annotations

__all__ = ["ACTIVE_RUN_STATUSES", "LEASE_SQL", "LEASE_SQL_AFTER"]

# A subject with a run in one of these states already has its one active run.
ACTIVE_RUN_STATUSES = ("pending", "running", "paused")

_BASE = """
WITH busy(subject_key) AS MATERIALIZED (
    SELECT subject_key FROM queue_entries INDEXED BY idx_queue_status_seq
    WHERE status = 'assigned'
    UNION ALL
    SELECT subject_key FROM workflows
    WHERE status IN ('pending', 'running', 'paused') AND subject_key IS NOT NULL
    UNION ALL
    SELECT value FROM json_each(:excluded)
)
SELECT q.entry_id, q.subject_key, q.priority_rank, q.requested_at, q.seq
FROM queue_entries AS q INDEXED BY idx_queue_status_order
WHERE q.status = 'pending'
  {after}
  AND (q.run_at IS NULL OR q.run_at <= :now)
  AND q.subject_key NOT IN busy
  AND (q.task_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM task_dependencies AS d
      WHERE d.task_id = q.task_id AND d.dependency_type = 'blocked-by'
        AND coalesce((SELECT t.status FROM tasks AS t WHERE t.id = d.depends_on), '') <> 'done'))
ORDER BY q.priority_rank, q.requested_at, q.seq
LIMIT :batch
"""

LEASE_SQL = _BASE.format(after="")
# Continue after the last row seen (only needed when a batch was all duplicates).
LEASE_SQL_AFTER = _BASE.format(
    after="AND (q.priority_rank, q.requested_at, q.seq) > (:rank, :requested_at, :seq)"
)
