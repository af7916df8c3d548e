"""One module per top-level command family; each exposes ``command``."""
