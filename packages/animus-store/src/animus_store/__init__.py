"""Durable state for Animus: atomic JSON files, file locks, the scoped runtime root, SQLite
workflow.db, JSONL event logs and the step journal.
"""

from importlib.metadata import version as _version

__version__ = _version("animus-store")

__all__ = ["__version__"]
