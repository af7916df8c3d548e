"""Dependency queries: unmet ``blocked-by`` edges, cycle paths, the next dispatchable task."""

from __future__ import annotations

import sqlite3

__all__ = ["NEXT_READY_SQL", "blocked_by_path", "unmet_dependencies"]

# Ready, not paused, every blocked-by dependency done (a missing one counts as unmet); most
# urgent first, then oldest id. Served by idx_tasks_status_rank_number.
NEXT_READY_SQL = (
    "SELECT json FROM tasks t WHERE t.status = 'ready' "
    "AND coalesce(json_extract(t.json, '$.paused'), 0) = 0 "
    "AND NOT EXISTS (SELECT 1 FROM task_dependencies d "
    "  LEFT JOIN tasks dep ON dep.id = d.depends_on "
    "  WHERE d.task_id = t.id AND d.dependency_type = 'blocked-by' "
    "  AND (dep.status IS NULL OR dep.status != 'done')) "
    "ORDER BY t.priority_rank ASC, t.number ASC LIMIT 1"
)


def unmet_dependencies(conn: sqlite3.Connection, task_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT d.depends_on FROM task_dependencies d LEFT JOIN tasks t ON t.id = d.depends_on "
        "WHERE d.task_id = ? AND d.dependency_type = 'blocked-by' "
        "AND (t.status IS NULL OR t.status != 'done') ORDER BY d.depends_on",
        (task_id,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def blocked_by_path(conn: sqlite3.Connection, start: str, target: str) -> list[str] | None:
    """A ``blocked-by`` path start -> ... -> target, or None (breadth-first, bounded)."""
    parent: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        if node == target:
            path: list[str] = []
            cur: str | None = node
            while cur is not None:
                path.append(cur)
                cur = parent[cur]
            return path[::-1]
        for (nxt,) in conn.execute(
            "SELECT depends_on FROM task_dependencies WHERE task_id = ? "
            "AND dependency_type = 'blocked-by'",
            (node,),
        ):
            if nxt not in parent:
                parent[nxt] = node
                frontier.append(nxt)
    return None
