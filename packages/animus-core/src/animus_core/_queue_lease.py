"""The lease query: the next dispatchable pending entries, straight off the order index.

The outer scan walks ``idx_queue_status_order`` (status, priority_rank, requested_at, seq),
so the first rows come out already in dispatch order and SQLite stops after ``LIMIT``
matches; every skip rule is a correlated ``NOT EXISTS`` probe on its own index. A skipped
entry is simply not selected, so it stays pending in place (head-of-line entries for a busy
subject keep their turn). A ``blocked-by`` dependency on a task that no longer exists counts
as unmet, as in ``TaskService.unmet_dependencies``.
"""

from __future__ import annotations

__all__ = ["ACTIVE_RUN_STATUSES", "LEASE_SQL", "LEASE_SQL_AFTER"]

# A subject with a run in one of these states already has its one active run.
ACTIVE_RUN_STATUSES = ("pending", "running", "paused")

_BASE = """
SELECT q.entry_id, q.subject_key, q.priority_rank, q.requested_at, q.seq
FROM queue_entries AS q INDEXED BY idx_queue_status_order
WHERE q.status = 'pending'
  {after}
  AND (q.run_at IS NULL OR q.run_at <= :now)
  AND q.subject_key NOT IN (SELECT value FROM json_each(:excluded))
  AND NOT EXISTS (
      SELECT 1 FROM queue_entries AS a
      WHERE a.subject_key = q.subject_key AND a.status = 'assigned')
  AND NOT EXISTS (
      SELECT 1 FROM workflows AS w
      WHERE w.subject_key = q.subject_key AND w.status IN ('pending', 'running', 'paused'))
  AND (q.task_id IS NULL OR NOT EXISTS (
      SELECT 1 FROM task_dependencies AS d LEFT JOIN tasks AS t ON t.id = d.depends_on
      WHERE d.task_id = q.task_id AND d.dependency_type = 'blocked-by'
        AND (t.status IS NULL OR t.status <> 'done')))
ORDER BY q.priority_rank, q.requested_at, q.seq
LIMIT :batch
"""

LEASE_SQL = _BASE.format(after="")
# Continue after the last row seen (only needed when a batch was all duplicates).
LEASE_SQL_AFTER = _BASE.format(
    after="AND (q.priority_rank, q.requested_at, q.seq) > (:rank, :requested_at, :seq)"
)
