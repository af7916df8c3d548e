"""Request, response and notification models, one module per plugin kind."""

from __future__ import annotations
