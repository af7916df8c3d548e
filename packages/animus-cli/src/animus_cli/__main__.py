"""Entry point of the ``animus`` console script."""

from __future__ import annotations

import sys


def main() -> None:
    from animus_cli.app import run

    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
