"""Routing subject kinds to the subject-backend plugin that claims them.

A claim is an exact kind (``linear.issue``) or a prefix glob (``linear.*``). An exact claim
beats any glob; among globs the longest prefix wins. Two plugins claiming the same exact
kind, or the same glob, is a setup error raised when the router is built, not a coin toss
at dispatch time. An unclaimed kind answers JSON-RPC -32601.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from animus_plugin_host._discovery import DiscoveredPlugin
from animus_plugin_host._errors import PluginCallError, RouterSetupError

__all__ = ["SubjectRoute", "SubjectRouter", "subject_kinds_of"]

_SUBJECT_KIND_PREFIX = "subject_kind:"


def subject_kinds_of(plugin: DiscoveredPlugin) -> list[str]:
    """Kinds a plugin claims through ``subject_kind:<kind>`` manifest capability tokens."""
    return [
        c[len(_SUBJECT_KIND_PREFIX) :]
        for c in plugin.manifest.capabilities
        if c.startswith(_SUBJECT_KIND_PREFIX)
    ]


@dataclass(frozen=True)
class SubjectRoute:
    plugin: str
    kind: str
    verb: str
    claim: str

    @property
    def method(self) -> str:
        return f"{self.kind}/{self.verb}"


class SubjectRouter:
    """Resolves a subject kind (or a ``<kind>/<verb>`` method) to the owning plugin."""

    def __init__(self, claims: Mapping[str, Iterable[str]]) -> None:
        self._exact: dict[str, str] = {}
        self._globs: dict[str, str] = {}
        problems: list[str] = []
        for plugin, kinds in claims.items():
            for raw_claim in kinds:
                claim = raw_claim.strip()
                if not claim:
                    continue
                table, key = (
                    (self._globs, claim[:-1]) if claim.endswith(".*") else (self._exact, claim)
                )
                owner = table.get(key)
                if owner is not None and owner != plugin:
                    problems.append(
                        f"subject kind {claim!r} is claimed by both {owner} and {plugin}"
                    )
                    continue
                table[key] = plugin
        if problems:
            raise RouterSetupError(
                "; ".join(problems),
                details={"conflicts": problems},
                hint="uninstall one of the plugins or install it under another kind",
            )

    @classmethod
    def from_plugins(cls, plugins: Iterable[DiscoveredPlugin]) -> SubjectRouter:
        return cls(
            {p.name: subject_kinds_of(p) for p in plugins if p.serves_kind("subject_backend")}
        )

    @property
    def claims(self) -> dict[str, str]:
        table = dict(self._exact)
        table.update({f"{prefix}*": plugin for prefix, plugin in self._globs.items()})
        return table

    def resolve(self, kind: str) -> tuple[str, str]:
        """``(plugin, claim)`` for ``kind``; raises PluginCallError(-32601) when unclaimed."""
        plugin = self._exact.get(kind)
        if plugin is not None:
            return plugin, kind
        best: str | None = None
        for prefix in self._globs:
            if kind.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        if best is not None:
            return self._globs[best], f"{best}*"
        raise PluginCallError(
            f"no subject backend claims kind {kind!r}",
            plugin="(router)",
            method=f"{kind}/*",
            rpc_code=-32601,
            data={"category": "not_supported", "kind": kind},
            hint="install a subject_backend plugin that declares `subject_kind:<kind>`",
        )

    def route(self, method: str) -> SubjectRoute:
        """Split ``<kind>/<verb>`` and resolve its kind."""
        kind, sep, verb = method.rpartition("/")
        if not sep or not kind or not verb:
            raise PluginCallError(
                f"{method!r} is not a <kind>/<verb> method",
                plugin="(router)",
                method=method,
                rpc_code=-32601,
                data={"category": "invalid_request"},
            )
        plugin, claim = self.resolve(kind)
        return SubjectRoute(plugin, kind, verb, claim)
