from __future__ import annotations

from animus_provider_opencode._plugin import main

if __name__ == "__main__":
    main()
