"""The Animus workflow runner: phase loop, verdict routing, rework, worktrees and git, merge/PR,
checkpoints, budgets, durable steps.

``execute(ExecuteRequest(...))`` runs one workflow run until it ends or waits (the same code
the ``animus-workflow-runner execute`` executable runs); ``request_action`` and
``record_manual_verdict`` reach a run through the database.
"""

from importlib.metadata import version as _version

__version__ = _version("animus-workflow-runner")

__all__ = ["__version__"]
