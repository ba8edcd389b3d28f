"""Charts drawn on the server as SVG: no chart library, nothing for the browser to fetch.

Each chart has a text alternative (`<title>`/`<desc>` and `role="img"`); the table beside
it carries the same figures for screen readers and for copying.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

ROW = 26
LABEL_WIDTH = 150
BAR_WIDTH = 300
#: colours with at least 4.5:1 contrast against white, told apart by pattern as well
COLOURS = ("#1f5fa8", "#b35900", "#2e7d32", "#7b1fa2")


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value (None: no figure) and whether it is flagged (small n)."""

    label: str
    value: float | None
    flagged: bool = False


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"


def bar_chart(key: str, title: str, bars: list[Bar], unit: str = "",
              flag_note: str = "") -> Markup:
    """Horizontal bars, one per row; flagged bars are hatched and marked with ※."""
    top = max((b.value for b in bars if b.value is not None), default=0.0) or 1.0
    height = ROW * len(bars) + 10
    width = LABEL_WIDTH + BAR_WIDTH + 80
    rows = []
    for i, bar in enumerate(bars):
        y = 5 + i * ROW
        label = escape(bar.label + (" ※" if bar.flagged else ""))
        rows.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 17}" text-anchor="end">{label}</text>')
        if bar.value is None:
            rows.append(f'<text x="{LABEL_WIDTH + 4}" y="{y + 17}" class="none">—</text>')
            continue
        length = max(1.0, BAR_WIDTH * bar.value / top)
        fill = f"url(#hatch-{key})" if bar.flagged else COLOURS[0]
        rows.append(f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{length:.1f}" height="{ROW - 8}"'
                    f' fill="{fill}" stroke="{COLOURS[0]}"/>')
        rows.append(f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{y + 17}">'
                    f'{escape(_number(bar.value) + unit)}</text>')
    desc = "、".join(f"{b.label} {'—' if b.value is None else _number(b.value) + unit}"
                    for b in bars)
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}"'
        f' height="{height}" aria-label="{escape(title)}">'
        f'<title>{escape(title)}</title><desc>{escape(desc + " " + flag_note)}</desc>'
        f'<defs><pattern id="hatch-{key}" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{COLOURS[0]}" stroke-width="3"/>'
        '</pattern></defs>' + "".join(rows) + "</svg>")


def stacked_chart(title: str, rows: list[tuple[str, dict[str, int]]],
                  legend: list[str]) -> Markup:
    """Horizontal stacked bars (e.g. backlog buckets per division), with a legend."""
    top = float(max((sum(r.values()) for _, r in rows), default=0) or 1)
    height = ROW * (len(rows) + 1) + 10
    width = LABEL_WIDTH + BAR_WIDTH + 80
    parts = []
    for k, name in enumerate(legend):
        key_x = LABEL_WIDTH + k * 80
        parts.append(f'<rect x="{key_x}" y="6" width="12" height="12" fill="{COLOURS[k % 4]}"/>'
                     f'<text x="{key_x + 16}" y="17">{escape(name)}</text>')
    for i, (label, values) in enumerate(rows):
        y = 5 + (i + 1) * ROW
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 17}" text-anchor="end">'
                     f'{escape(label)}</text>')
        x = float(LABEL_WIDTH)
        for k, name in enumerate(legend):
            count = values.get(name, 0)
            if count:
                length = BAR_WIDTH * count / top
                parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{length:.1f}"'
                             f' height="{ROW - 8}" fill="{COLOURS[k % 4]}"/>')
                x += length
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 17}">{sum(values.values())}</text>')
    desc = "、".join(f"{label} " + " ".join(f"{k}:{v}" for k, v in values.items())
                    for label, values in rows)
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}"'
        f' height="{height}" aria-label="{escape(title)}">'
        f'<title>{escape(title)}</title><desc>{escape(desc)}</desc>' + "".join(parts) + "</svg>")
