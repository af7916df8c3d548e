from __future__ import annotations

from animus_provider_oai._plugin import main

if __name__ == "__main__":
    main()
