"""Finding the CLI a provider plugin drives: an explicit override variable, else ``PATH``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from animus_plugin_protocol._errors import RpcError

__all__ = ["resolve_cli_binary"]


def resolve_cli_binary(
    environ: Mapping[str, str], *, var: str, command: str, npm_package: str
) -> str:
    """``$var`` (it must name an executable file), else ``command`` on ``PATH``; otherwise a
    ``session_start_failed`` error that says how to install the CLI or where to point."""
    override = environ.get(var)
    if override:
        path = Path(override)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        raise RpcError.internal(
            f"{var}={override} is not an executable file; point {var} at the "
            f"{command} executable (npm package {npm_package})",
            category="session_start_failed",
        )
    found = shutil.which(command, path=environ.get("PATH", os.defpath))
    if found is None:
        raise RpcError.internal(
            f"the {command} CLI was not found on PATH; install it (npm install -g "
            f"{npm_package}) or set {var} to its path",
            category="session_start_failed",
        )
    return found
