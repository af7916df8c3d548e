"""Parse YAML into plain Python values while recording where every field was written.

PyYAML's composer gives nodes with start marks; we build the values ourselves from the node
tree so each mapping key and each sequence item gets a :class:`SourceLocation` in the source
map. Duplicate keys, which plain ``yaml.safe_load`` silently collapses, are errors here.
"""

from __future__ import annotations

from typing import Any

import yaml

from animus_config._diagnostics import ConfigDiagnostic, FieldPath, SourceMap
from animus_config.interpolate import PositionMap

__all__ = ["parse_yaml"]

# libyaml's parser is an order of magnitude faster than the pure-Python one and reports the
# same character offsets in its marks; fall back when PyYAML was built without it.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# Aliases are expanded (each use gets its own path in the source map), so a document of
# nested aliases could grow exponentially ("billion laughs"); refuse past this many nodes.
MAX_NODES = 100_000


class _TooLarge(Exception):
    pass


class _Builder:
    def __init__(self, loader: Any, positions: PositionMap) -> None:
        self.loader = loader
        self.positions = positions
        self.smap = SourceMap()
        self.errors: list[ConfigDiagnostic] = []
        self.nodes = 0

    def loc(self, node: yaml.Node) -> Any:
        return self.positions.location(node.start_mark.index)

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge
        self.smap.values[path] = self.loc(node)
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves "<<" merge keys
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                if isinstance(key, (list, dict)):
                    self.errors.append(
                        ConfigDiagnostic.at(
                            "error", "mapping keys must be scalars", self.loc(key_node), path
                        )
                    )
                    continue
                if not isinstance(key, str):
                    key = str(key) if key is not None else "null"
                child = (*path, key)
                if key in result:
                    self.errors.append(
                        ConfigDiagnostic.at(
                            "error",
                            f"duplicate key '{key}' (first defined at line "
                            f"{self.smap.keys[child].line})",
                            self.loc(key_node),
                            child,
                        )
                    )
                    continue
                self.smap.keys[child] = self.loc(key_node)
                result[key] = self.build(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            items: list[Any] = []
            for index, item in enumerate(node.value):
                child = (*path, index)
                self.smap.keys[child] = self.loc(item)
                items.append(self.build(item, child))
            return items
        return self.loader.construct_object(node, deep=True)


def parse_yaml(text: str, positions: PositionMap) -> tuple[Any, SourceMap, list[ConfigDiagnostic]]:
    """Return ``(data, source_map, errors)``; data is ``None`` for an empty document."""
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            loc = positions.location(mark.index) if mark is not None else None
            problem = exc.problem or "invalid YAML"
            if exc.context:
                started = ""
                if exc.context_mark is not None and (
                    mark is None or exc.context_mark.index != mark.index
                ):
                    begin = positions.location(exc.context_mark.index)
                    started = f" (started at line {begin.line}, column {begin.column})"
                problem = f"{exc.context}{started}: {problem}"
            found = ConfigDiagnostic.at("error", f"invalid YAML: {problem}", loc)
            return None, SourceMap(), [found]
        except yaml.YAMLError as exc:
            where = ConfigDiagnostic.at("error", f"invalid YAML: {exc}", None)
            return None, SourceMap(), [where]
        if node is None:
            return None, SourceMap(), []
        builder = _Builder(loader, positions)
        try:
            data = builder.build(node, ())
        except _TooLarge:
            found = ConfigDiagnostic.at(
                "error",
                f"document expands to more than {MAX_NODES} nodes (too many nested aliases?)",
                builder.loc(node),
            )
            return None, SourceMap(), [found]
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            loc = positions.location(mark.index) if mark is not None else None
            builder.errors.append(
                ConfigDiagnostic.at("error", f"invalid YAML value: {exc.problem}", loc)
            )
            return None, builder.smap, builder.errors
        return data, builder.smap, builder.errors
    finally:
        loader.dispose()
