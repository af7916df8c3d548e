"""Check the layer contracts with import-linter.

The static contracts live in the root pyproject's ``[tool.importlinter]``. This script adds
one contract per run that cannot be static: every distribution under ``plugins/`` may import
``animus_plugin_protocol`` and ``animus_protocol`` but nothing else of the kernel (plugins
talk to the kernel over the wire only). Exit status is import-linter's.

Usage: python tools/layers.py [--root DIR]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile
import tomllib

KERNEL_WIRE_ONLY = ("animus_plugin_protocol", "animus_protocol")


def plugin_modules(root: pathlib.Path) -> list[str]:
    found = []
    for src in sorted(root.glob("plugins/*/src")):
        found += [p.name for p in sorted(src.iterdir()) if (p / "__init__.py").is_file()]
    return found


def build_config(root: pathlib.Path) -> str:
    conf = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]
    kernel = list(conf["root_packages"])
    plugins = plugin_modules(root)
    lines = ["[tool.importlinter]"]
    lines.append(f"root_packages = {json.dumps(kernel + plugins)}")
    lines.append(
        f"include_external_packages = {str(conf.get('include_external_packages', False)).lower()}"
    )
    contracts = list(conf["contracts"])
    if plugins:
        contracts.append(
            {
                "name": "Plugins talk to the kernel over the wire only",
                "type": "forbidden",
                "source_modules": plugins,
                "forbidden_modules": [m for m in kernel if m not in KERNEL_WIRE_ONLY],
            }
        )
    for contract in contracts:
        lines.append("")
        lines.append("[[tool.importlinter.contracts]]")
        for key, value in contract.items():
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=pathlib.Path, default=pathlib.Path(__file__).parents[1])
    args = parser.parse_args(argv)
    from importlinter.cli import lint_imports

    with tempfile.TemporaryDirectory() as tmp:
        config = pathlib.Path(tmp) / "importlinter.toml"
        config.write_text(build_config(args.root.resolve()))
        return int(lint_imports(config_filename=str(config), no_cache=True))


if __name__ == "__main__":
    sys.exit(main())
