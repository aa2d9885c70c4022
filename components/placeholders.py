"""Moved to `components.config.placeholders`; this name stays importable for the code that uses it."""

from components.config.placeholders import (
    DOCUMENTATION_ACCOUNTS,
    SIMULATED_RUN,
    check,
    find,
    is_real_update,
)

__all__ = ["DOCUMENTATION_ACCOUNTS", "SIMULATED_RUN", "check", "find", "is_real_update"]
