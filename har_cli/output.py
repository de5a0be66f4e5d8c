"""Plain-text tables and JSON for the listing commands (stdout stays parseable)."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from typing import Any


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Left-aligned columns separated by two spaces; numbers right-aligned."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    numeric = [all(_is_number(row[i]) for row in rows) and bool(rows) for i in range(len(headers))]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for r in cells:
        parts = [
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric, strict=True)
        ]
        print("  ".join(parts).rstrip())


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _cell(v: object) -> str:
    if isinstance(v, float):
        return "-" if math.isnan(v) else f"{v:.4f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def mean_std(mean: float, std: float, scale: float = 100.0) -> str:
    """``91.23 ± 0.45`` (percent by default); ``-`` when there is nothing to average."""
    if math.isnan(mean):
        return "-"
    return f"{mean * scale:.2f} ± {std * scale:.2f}"


def note(message: str) -> None:
    """Human-oriented remarks go to stderr, so stdout can be piped."""
    print(message, file=sys.stderr)
