"""The Animus service hub: subjects, queue, workflow-run repository, history, errors, state
machines, projectors, status.
"""

from importlib.metadata import version as _version

__version__ = _version("animus-core")

__all__ = ["__version__"]
