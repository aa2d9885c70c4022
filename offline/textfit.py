"""Text that fits a terminal: the width to use, cells cut with an ellipsis, table columns that give up room."""

from __future__ import annotations

import shutil

DEFAULT_WIDTH = 100


def terminal_width() -> int:
    """`COLUMNS`, else the terminal's width, else 100 (output to a file or a pipe)."""
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def cut(text: str, width: int, keep: str = "end") -> str:
    """`text` in at most `width` characters, an ellipsis where it was cut (`keep`: the side that survives)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    if keep == "start":
        return text[: width - 1] + "…"
    if keep == "end":
        return "…" + text[-(width - 1) :]
    head = (width - 1) // 2
    return text[:head] + "…" + text[-(width - 1 - head) :]


def fit_columns(
    rows: list[tuple[str, ...]], width: int | None, shrink: tuple[tuple[int, int], ...], gap: int = 2
) -> list[int]:
    """Column widths for `rows` within `width` (None: as wide as they are).

    `shrink` lists (column, narrowest) in the order columns give up room: the first shrinks to its
    narrowest before the next starts.
    """
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(len(rows[0]))] if rows else []
    if width is None:
        return widths
    for column, narrowest in shrink:
        excess = sum(widths) + gap * (len(widths) - 1) - width
        if excess <= 0:
            break
        widths[column] = max(narrowest, widths[column] - excess, 1)
    return widths
