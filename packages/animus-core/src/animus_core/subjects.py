"""The subject router: a subject kind → the backend that stores it.

Built-in kinds: ``animus.task`` (CLI ``task``) and ``animus.requirement`` (CLI
``requirement``). Other backends (plugins) join with :meth:`SubjectRouter.register` under an
exact kind (``linear.issue``) or a prefix glob (``linear.*``). Resolution: an exact claim
beats any glob, and among globs the longest prefix wins. Claiming a kind or glob that is
already claimed is a :class:`ConflictError`.

Which kind a command means: ``--kind`` > ``default_subject_kind`` in
``.animus/config.json`` > an ``invalid_input`` error naming the known kinds.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from animus_core._subject_backends import (
    REQUIREMENT_STATUS_MAP,
    TASK_STATUS_MAP,
    RequirementSubjectBackend,
    TaskSubjectBackend,
    requirement_to_subject,
    task_to_subject,
)
from animus_core._subject_model import SubjectBackend, SubjectPage, SubjectQuery
from animus_protocol.envelope import ConflictError, InvalidInputError
from animus_protocol.subjects import KIND_REQUIREMENT, KIND_TASK, canonical_subject_kind

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = [
    "REQUIREMENT_STATUS_MAP",
    "TASK_STATUS_MAP",
    "SubjectBackend",
    "SubjectPage",
    "SubjectQuery",
    "SubjectRouter",
    "requirement_to_subject",
    "task_to_subject",
]

_GLOB_SUFFIX = ".*"


class SubjectRouter:
    def __init__(self, hub: ServiceHub) -> None:
        self._hub = hub
        self._exact: dict[str, SubjectBackend] = {}
        self._globs: dict[str, SubjectBackend] = {}  # prefix including the dot -> backend
        self.register(KIND_TASK, TaskSubjectBackend(hub))
        self.register(KIND_REQUIREMENT, RequirementSubjectBackend(hub))

    def register(self, claim: str, backend: SubjectBackend) -> None:
        """Route ``claim`` (an exact kind or ``prefix.*``) to ``backend``."""
        text = canonical_subject_kind(claim)
        if not text or text == _GLOB_SUFFIX or "*" in text.removesuffix(_GLOB_SUFFIX):
            raise InvalidInputError(
                f"invalid subject kind claim {claim!r}",
                hint="claim an exact kind (vendor.thing) or a prefix glob (vendor.*)",
            )
        if text.endswith(_GLOB_SUFFIX):
            table, key = self._globs, text[:-1]
        else:
            table, key = self._exact, text
        if key in table:
            raise ConflictError(
                f"subject kind {text!r} is already claimed by another backend",
                details={"claim": text},
                hint="unregister the first backend or claim a different kind",
            )
        table[key] = backend

    def unregister(self, claim: str) -> None:
        text = canonical_subject_kind(claim)
        if text.endswith(_GLOB_SUFFIX):
            self._globs.pop(text[:-1], None)
        else:
            self._exact.pop(text, None)

    def kinds(self) -> list[str]:
        """Every claim, exact kinds first, as written (``animus.task``, ``linear.*``)."""
        return sorted(self._exact) + sorted(f"{p}*" for p in self._globs)

    def backend(self, kind: str) -> SubjectBackend:
        wanted = canonical_subject_kind(kind)
        found = self._exact.get(wanted)
        if found is not None:
            return found
        best = max((p for p in self._globs if wanted.startswith(p)), key=len, default=None)
        if best is not None:
            return self._globs[best]
        known = ["task", "requirement", *(k for k in self.kinds() if not k.startswith("animus."))]
        raise InvalidInputError(
            f"unknown subject kind {kind!r}",
            details={"kind": kind, "known_kinds": known},
            hint=f"use --kind with one of: {', '.join(known)}",
        )

    def default_kind(self) -> str | None:
        """``default_subject_kind`` from ``.animus/config.json`` (None when absent)."""
        self._hub.ensure_ready()  # bootstrap writes the default config on first use
        path = self._hub.project_paths.config_json
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise InvalidInputError(
                f"cannot read {path}: {exc}",
                hint="fix the JSON in .animus/config.json or pass --kind",
            ) from None
        value = data.get("default_subject_kind") if isinstance(data, dict) else None
        return value if isinstance(value, str) and value.strip() else None

    def resolve_kind(self, kind: str | None) -> str:
        """``kind`` if given, else the project default; canonical (``animus.task``)."""
        chosen = kind if kind and kind.strip() else self.default_kind()
        if chosen is None:
            raise InvalidInputError(
                "no subject kind given and no default_subject_kind configured",
                hint="pass --kind task (or set default_subject_kind in .animus/config.json)",
            )
        self.backend(chosen)
        return canonical_subject_kind(chosen)
