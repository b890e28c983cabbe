"""The tearsheet as one self-contained HTML document: inline SVG charts, CSS in a <style> block, no script.

Responsive (two columns above 900 px, one below 600 px, wide tables scroll inside their wrapper), light theme,
print CSS that starts each section on a new page. Every string from the data is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from investment_app.tearsheet import palette
from investment_app.tearsheet.model import TearsheetData
from investment_app.tearsheet.sections import DISCLAIMER, Block, Notes, Section, Stack, build_sections, period_text
from investment_app.tearsheet.svg import FONT_STACK, Chart
from investment_app.tearsheet.tables import Cell, Table

CSS = f"""
*{{box-sizing:border-box}}
html{{-webkit-text-size-adjust:100%;text-size-adjust:100%}}
body{{margin:0;background:#f5f6f8;color:{palette.INK};font:14px/1.45 {FONT_STACK}}}
.sheet{{max-width:1120px;margin:0 auto;padding:24px 20px 32px}}
header.top{{margin:0 0 16px}}
h1{{font-size:24px;line-height:1.2;margin:0 0 4px}}
.subtitle{{margin:0;font-size:16px;color:#374151}}
.meta{{margin:4px 0 0;font-size:12px;color:{palette.MUTED}}}
section{{background:#fff;border:1px solid {palette.GRID};border-radius:8px;padding:16px 18px;margin:0 0 16px}}
h2{{font-size:17px;margin:0 0 12px}}
.grid{{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px 24px;align-items:start}}
.stack{{display:grid;gap:12px}}
figure{{margin:0}}
figure svg{{display:block;width:100%;height:auto}}
.scroll{{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}}
table{{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:13px}}
caption{{text-align:left;font-weight:600;padding:0 0 6px}}
th,td{{padding:5px 8px;border-bottom:1px solid #eef0f3;text-align:right;white-space:nowrap}}
thead th{{font-weight:600;color:#374151;border-bottom:2px solid #d1d5db;background:{palette.HEADER_FILL}}}
th:first-child{{text-align:left}}
tbody th{{font-weight:500}}
table.data{{width:auto;min-width:min(100%,640px)}}
table.heat td{{text-align:center;padding:4px 5px;border:1px solid #fff;min-width:46px}}
.neg{{color:{palette.NEG_TEXT}}}
.pos{{color:{palette.POS_TEXT}}}
sup{{font-size:10px;color:{palette.MUTED}}}
.footnotes{{margin:8px 0 0;padding-left:20px;font-size:12px;color:{palette.MUTED}}}
.empty{{color:{palette.MUTED};margin:0}}
.notes{{margin:0;padding-left:20px}}
.notes li{{margin:0 0 4px}}
footer{{font-size:12px;color:{palette.MUTED};margin-top:8px}}
@media screen and (max-width:900px){{.grid{{grid-template-columns:minmax(0,1fr)}}}}
@media screen and (max-width:600px){{
.sheet{{padding:12px 8px 24px}}
section{{padding:12px 10px;border-radius:6px}}
h1{{font-size:20px}}
th,td{{padding:4px 6px}}
table{{font-size:12px}}
thead th,tbody th{{white-space:normal}}
tbody th{{min-width:7em}}
figure svg .tick{{font-size:14px}}
figure svg .title{{font-size:17px}}
}}
@media print{{
@page{{size:A4;margin:14mm}}
body{{background:#fff;font-size:11px}}
table{{font-size:11px}}
.sheet{{max-width:none;padding:0}}
section{{border:0;padding:0;margin:0 0 12px}}
h2{{break-after:avoid}}
.scroll{{overflow:visible}}
figure,tr{{break-inside:avoid}}
}}
"""


def render_html(data: TearsheetData) -> str:
    """The complete HTML document for ``data`` (UTF-8 text, self-contained, works offline)."""
    body = title_block(data) + "".join(section(s) for s in build_sections(data))
    footer = f"<footer>{escape(DISCLAIMER)}</footer>"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(data.title)}</title><style>{CSS}</style></head>"
        f'<body><main class="sheet">{body}{footer}</main></body></html>'
    )


def title_block(data: TearsheetData) -> str:
    """Title, subtitle and the period line."""
    subtitle = f'<p class="subtitle">{escape(data.subtitle)}</p>' if data.subtitle else ""
    meta = f'<p class="meta">{period_text(data)}</p>'
    return f'<header class="top"><h1>{escape(data.title)}</h1>{subtitle}{meta}</header>'


def section(part: Section) -> str:
    """A <section> with its heading; two-column sections use the responsive grid."""
    blocks = "".join(block(b) for b in part.blocks)
    inner = f'<div class="grid">{blocks}</div>' if part.columns == 2 else blocks
    return f'<section id="{escape(part.anchor)}"><h2>{escape(part.title)}</h2>{inner}</section>'


def block(item: Block) -> str:
    """One chart, stack of charts, table or note list."""
    match item:
        case Chart():
            return f'<figure class="chart">{item.svg()}</figure>'
        case Stack():
            return f'<div class="stack">{"".join(block(c) for c in item.charts)}</div>'
        case Notes():
            return f'<ul class="notes">{"".join(f"<li>{escape(n)}</li>" for n in item.items)}</ul>'
        case Table():
            return table(item)


def table(item: Table) -> str:
    """A table in a horizontally scrolling wrapper, with its footnotes; the empty message when it has no rows."""
    if not item.rows:
        return f'<p class="empty">{escape(item.empty)}</p>'
    caption = f"<caption>{escape(item.caption)}</caption>" if item.caption else ""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in item.headers)
    rows = "".join(f"<tr>{cell(row[0], 'th')}{''.join(cell(c) for c in row[1:])}</tr>" for row in item.rows)
    notes = "".join(f"<li>{escape(n)}</li>" for n in item.footnotes)
    notes = f'<ol class="footnotes">{notes}</ol>' if notes else ""
    kind = "heat" if item.heatmap else "data"
    grid = f'<table class="{kind}">{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    return f'<div class="table"><div class="scroll">{grid}</div>{notes}</div>'


def cell(item: Cell, name: str = "td") -> str:
    """A <td> (or row-header <th>) with tone class, background, tooltip and footnote marker."""
    attrs = ' scope="row"' if name == "th" else ""
    attrs += f' class="{item.tone}"' if item.tone else ""
    attrs += f' style="background:{item.fill}"' if item.fill else ""
    attrs += f' title="{escape(item.title)}"' if item.title else ""
    marker = f"<sup>{item.note}</sup>" if item.note else ""
    return f"<{name}{attrs}>{escape(item.text)}{marker}</{name}>"
