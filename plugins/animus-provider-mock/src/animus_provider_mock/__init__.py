"""A deterministic, scripted Animus provider plugin (``animus-provider-mock``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from animus_provider_mock._plugin import PLUGIN_NAME, build_plugin, main
from animus_provider_mock._script import STEP_KINDS, Script, Step, choose_script, parse_script

try:
    __version__ = _version("animus-provider-mock")
except PackageNotFoundError:  # run from a source tree (e.g. a kernel test's fixture copy)
    __version__ = "0.1.0"

__all__ = [
    "PLUGIN_NAME",
    "STEP_KINDS",
    "Script",
    "Step",
    "__version__",
    "build_plugin",
    "choose_script",
    "main",
    "parse_script",
]
