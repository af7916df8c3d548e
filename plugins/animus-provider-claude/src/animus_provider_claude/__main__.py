from __future__ import annotations

from animus_provider_claude._plugin import main

if __name__ == "__main__":
    main()
