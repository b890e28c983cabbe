"""The tearsheet as an A4 portrait PDF (fpdf2, pure Python): the same sections, charts and tables as the HTML.

Charts are the HTML page's SVG, imported by fpdf2, two to a row. Text uses DejaVu Sans when its TTF files are
present (embedded, subset); otherwise the core Helvetica, with "−", "–", "≥"… mapped to ASCII and any other
character outside Latin-1 shown as "?". Pages are numbered "Page n of N" in the footer.
"""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF

from investment_app.tearsheet import palette
from investment_app.tearsheet.formatting import ASCII
from investment_app.tearsheet.model import TearsheetData
from investment_app.tearsheet.sections import DISCLAIMER, Notes, Section, Stack, build_sections, period_text
from investment_app.tearsheet.svg import Chart
from investment_app.tearsheet.tables import Table

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
DEJAVU = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
MARGIN, GAP = 15.0, 6.0  # mm
CONTENT_WIDTH = 210.0 - 2 * MARGIN
TONE_COLORS = {"neg": palette.NEG_TEXT, "pos": palette.POS_TEXT, "": palette.INK}


class TearsheetPDF(FPDF):
    """A4 portrait with 15 mm margins, a text cleaner for the chosen font and a numbered footer."""

    def __init__(self, font_dir: Path | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 3)
        self.unicode = font_dir is not None and all((font_dir / name).is_file() for name in DEJAVU.values())
        if self.unicode:
            for style, name in DEJAVU.items():
                self.add_font("DejaVu", style, str(font_dir / name))
        self.family = "DejaVu" if self.unicode else "helvetica"

    def clean(self, text: str) -> str:
        """The text as the font can print it (unchanged for DejaVu; ASCII-mapped Latin-1 for core fonts)."""
        return text if self.unicode else text.translate(ASCII).encode("latin-1", "replace").decode("latin-1")

    def write_line(self, text: str, size: float, style: str = "", color: str = palette.INK, height: float = 0) -> None:
        """A full-width paragraph in the given size (pt), style and colour."""
        self.set_font(self.family, style, size)
        self.set_text_color(color)
        self.multi_cell(0, height or size * 0.5, self.clean(text), new_x="LMARGIN", new_y="NEXT")

    def footer(self) -> None:
        """ "Page n of N" centred at the bottom."""
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(palette.MUTED)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")


def render_pdf(data: TearsheetData, compress: bool = True, font_dir: Path | None = DEJAVU_DIR) -> bytes:
    """The tearsheet as PDF bytes; ``font_dir`` without DejaVu (or None) falls back to the core fonts."""
    pdf = TearsheetPDF(font_dir)
    pdf.set_compression(compress)
    pdf.set_title(data.title)
    pdf.set_creator("investment_app tearsheet")
    pdf.add_page()
    pdf.write_line(data.title, 18, "B", height=9)
    if data.subtitle:
        pdf.write_line(data.subtitle, 12, color="#374151", height=6)
    pdf.write_line(period_text(data), 8, color=palette.MUTED, height=5)
    for part in build_sections(data):
        section(pdf, part)
    pdf.ln(2)
    pdf.write_line(DISCLAIMER, 7, color=palette.MUTED, height=4)
    return bytes(pdf.output())


def section(pdf: TearsheetPDF, part: Section) -> None:
    """Heading (on a new page unless 50 mm fit below it), then tables and notes, charts in pairs."""
    if pdf.will_page_break(50):
        pdf.add_page()
    pdf.ln(4)
    pdf.write_line(part.title, 13, "B", height=8)
    pdf.ln(1)
    charts: list[Chart] = []
    for item in part.blocks:
        if isinstance(item, Chart | Stack):
            charts += [item] if isinstance(item, Chart) else list(item.charts)
            continue
        chart_rows(pdf, charts)
        charts = []
        if isinstance(item, Notes):
            for note in item.items:
                pdf.write_line(f"•  {note}", 9, height=5)
        else:
            table(pdf, item)
    chart_rows(pdf, charts)


def chart_rows(pdf: TearsheetPDF, charts: list[Chart]) -> None:
    """Charts two to a row, each (content width − gap) / 2 wide, a row moved whole to the next page if needed."""
    width = (CONTENT_WIDTH - GAP) / 2
    for pair in (charts[i : i + 2] for i in range(0, len(charts), 2)):
        height = max(width * chart.height / chart.width for chart in pair)
        if pdf.will_page_break(height + 2):
            pdf.add_page()
        top = pdf.get_y()
        for column, chart in enumerate(pair):
            svg = pdf.clean(chart.svg(font_family=pdf.family, accessible=False))
            pdf.image(io.BytesIO(svg.encode()), x=MARGIN + column * (width + GAP), y=top, w=width)
        pdf.set_y(top + height + 3)


def table(pdf: TearsheetPDF, item: Table) -> None:
    """Rows of cells with light rules, a grey header repeated after a page break, coloured numbers and heatmap
    fills; then the footnotes. Columns fit their widest text; a too-wide table shrinks its font to fit."""
    if not item.rows:
        pdf.write_line(item.empty, 9, color=palette.MUTED, height=6)
        return
    texts = [[pdf.clean(c.text + (f" [{c.note}]" if c.note else "")) for c in row] for row in item.rows]
    headers = [pdf.clean(h) for h in item.headers]
    size, widths = column_widths(pdf, headers, texts, 7 if item.heatmap else 8, item.heatmap)
    height = size * 0.62
    align = ["L"] + ["C" if item.heatmap else "R"] * (len(headers) - 1)
    pdf.set_draw_color(palette.GRID)
    pdf.set_line_width(0.2)
    header_row(pdf, headers, widths, align, size)
    for cells, row in zip(item.rows, texts, strict=True):
        if pdf.will_page_break(height):
            pdf.add_page()
            header_row(pdf, headers, widths, align, size)
        for cell, text, width, side in zip(cells, row, widths, align, strict=True):
            pdf.set_text_color(TONE_COLORS[cell.tone])
            pdf.set_fill_color(cell.fill or "#ffffff")
            pdf.cell(width, height, text, border=0 if item.heatmap else "B", align=side, fill=bool(cell.fill))
        pdf.ln(height)
    for number, note in enumerate(item.footnotes, start=1):
        pdf.write_line(f"[{number}] {note}", 7, color=palette.MUTED, height=4)
    pdf.ln(3)


def column_widths(
    pdf: TearsheetPDF, headers: list[str], rows: list[list[str]], size: float, full: bool
) -> tuple[float, list[float]]:
    """Font size and column widths (mm): widest text + 4 mm, widened to 60 % of the page (all of it when
    ``full``), or the font shrunk so the table fits the page."""
    pdf.set_font(pdf.family, "B", size)
    widths = [pdf.get_string_width(h) + 4 for h in headers]
    pdf.set_font(pdf.family, "", size)
    widths = [
        max(w, *(pdf.get_string_width(t) + 4 for t in column))
        for w, column in zip(widths, zip(*rows, strict=True), strict=True)
    ]
    total = sum(widths)
    target = CONTENT_WIDTH if full or total > CONTENT_WIDTH else max(total, 0.6 * CONTENT_WIDTH)
    shrink = min(1.0, CONTENT_WIDTH / total)
    return size * shrink, [w * target / total for w in widths]


def header_row(pdf: TearsheetPDF, headers: list[str], widths: list[float], align: list[str], size: float) -> None:
    """The bold header on a grey band."""
    pdf.set_font(pdf.family, "B", size)
    pdf.set_text_color(palette.INK)
    pdf.set_fill_color(palette.HEADER_FILL)
    for text, width, side in zip(headers, widths, align, strict=True):
        pdf.cell(width, size * 0.62, text, border="B", align=side, fill=True)
    pdf.ln(size * 0.62)
    pdf.set_font(pdf.family, "", size)
