"""The Animus workflow runner: phase loop, verdict routing, rework, worktrees and git, merge/PR,
checkpoints, budgets, durable steps.
"""

from importlib.metadata import version as _version

__version__ = _version("animus-workflow-runner")

__all__ = ["__version__"]
