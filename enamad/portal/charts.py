"""Small server-rendered SVG charts for the staff dashboard: no JavaScript, no external library.

Every text is escaped here and numbers are shown in Persian digits; the caller marks nothing
safe itself. Each chart carries a <title> (and the page shows the same figures as a table)."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ramis.common.digits import to_persian_digits

PALETTE = ("#1f6f8b", "#99a8b2", "#e6a157", "#c0392b", "#2e8b57", "#6c5b7b", "#355c7d", "#f67280", "#8d6e63",
           "#455a64")
# The page is RTL; inside the SVG the coordinates are laid out explicitly, so the SVG itself is
# LTR (text-anchor "end" is then the right edge); Persian labels still shape right to left. The
# direction and font come from `svg.chart` in static/enamad/enamad.css, never a style attribute
# (the Content-Security-Policy allows no inline style).


def _n(value) -> str:
    return to_persian_digits(str(value))


def bar_chart(rows: list[tuple[str, int]], *, title: str, width: int = 560, bar_height: int = 22) -> SafeString:
    """Horizontal bars, labels on the right (RTL), values at the bar's end."""
    label_width, gap, pad = 190, 8, 10
    height = pad * 2 + len(rows) * (bar_height + gap)
    top = max([value for _, value in rows] + [1])
    span = width - label_width - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" direction="ltr"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(rows):
        y = pad + i * (bar_height + gap)
        length = round(span * value / top) if value else 0
        right = width - label_width
        parts.append(f'<text x="{width - 4}" y="{y + bar_height * 0.72:.1f}" text-anchor="end" font-size="13" '
                     f'fill="#222">{escape(label)}</text>')
        parts.append(f'<rect x="{right - length}" y="{y}" width="{length}" height="{bar_height}" rx="3" '
                     f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(label)}: {_n(value)}</title></rect>')
        parts.append(f'<text x="{right - length - 6}" y="{y + bar_height * 0.72:.1f}" text-anchor="end" '
                     f'font-size="13" fill="#222">{_n(value)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def column_chart(rows: list[tuple[str, int]], *, title: str, width: int = 420, height: int = 220) -> SafeString:
    """Vertical columns read right to left (the first row is the rightmost column)."""
    pad_top, pad_bottom, pad_side = 24, 34, 12
    count = max(len(rows), 1)
    slot = (width - 2 * pad_side) / count
    column = slot * 0.6
    top = max([value for _, value in rows] + [1])
    usable = height - pad_top - pad_bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" direction="ltr"><title>{escape(title)}</title>',
             f'<line x1="{pad_side}" y1="{height - pad_bottom}" x2="{width - pad_side}" y2="{height - pad_bottom}" '
             f'stroke="#999"/>']
    for i, (label, value) in enumerate(rows):
        center = width - pad_side - slot * (i + 0.5)
        h = round(usable * value / top) if value else 0
        y = height - pad_bottom - h
        parts.append(f'<rect x="{center - column / 2:.1f}" y="{y}" width="{column:.1f}" height="{h}" rx="3" '
                     f'fill="{PALETTE[0]}"><title>{escape(label)}: {_n(value)}</title></rect>')
        parts.append(f'<text x="{center:.1f}" y="{y - 6}" text-anchor="middle" font-size="13">{_n(value)}</text>')
        parts.append(f'<text x="{center:.1f}" y="{height - pad_bottom + 20}" text-anchor="middle" '
                     f'font-size="13">{escape(label.split(" ")[0])}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def donut(fraction: float | None, *, title: str, caption: str = "", size: int = 160) -> SafeString:
    """A ring filled to ``fraction`` (0..1), the percentage in the middle; ``None`` means no data."""
    radius, stroke = size / 2 - 14, 18
    circumference = 2 * 3.141592653589793 * radius
    filled = circumference * max(0.0, min(1.0, fraction or 0.0))
    centre = size / 2
    text = "—" if fraction is None else _n(f"{round(fraction * 100)}٪")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {size} {size}" '
             f'width="{size}" height="{size}" direction="ltr"><title>{escape(title)}</title>',
             f'<circle cx="{centre}" cy="{centre}" r="{radius:.1f}" fill="none" stroke="#e3e7ea" '
             f'stroke-width="{stroke}"/>',
             f'<circle cx="{centre}" cy="{centre}" r="{radius:.1f}" fill="none" stroke="{PALETTE[3]}" '
             f'stroke-width="{stroke}" stroke-dasharray="{filled:.1f} {circumference:.1f}" '
             f'transform="rotate(-90 {centre} {centre})"/>',
             f'<text x="{centre}" y="{centre + 8}" text-anchor="middle" font-size="24" font-weight="bold">'
             f'{escape(text)}</text>']
    if caption:
        parts.append(f'<text x="{centre}" y="{centre + 30}" text-anchor="middle" font-size="11" fill="#555">'
                     f'{escape(caption)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
