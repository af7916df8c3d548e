"""A deterministic, scripted Animus provider plugin (``animus-provider-mock``)."""

from __future__ import annotations

from animus_provider_mock._plugin import PLUGIN_NAME, VERSION, build_plugin, main
from animus_provider_mock._script import STEP_KINDS, Script, Step, choose_script, parse_script

# A constant, not importlib.metadata: the plugin starts once per run, and reading the
# installed distribution's metadata cost ~50 ms of every start (a test pins it to pyproject).
__version__ = VERSION

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
