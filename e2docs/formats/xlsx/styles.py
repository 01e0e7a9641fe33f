"""Cell formats of the generated workbooks, by the style keys the layout uses.

Colours follow the académie workbooks teachers know: pale green input cells,
lilac headers, a yellow proposed mark.

A format is a dict of XlsxWriter format properties, as ``Workbook.add_format``
takes them: font sizes in points, colours as "#RRGGBB", ``num_format`` in Excel's
English syntax, ``locked: False`` for input cells.
"""

from __future__ import annotations

from typing import TypeAlias

Format: TypeAlias = dict[str, str | int | bool]

# Every cell starts from BASE; a style's properties override it.
BASE: Format = {"font_name": "Arial", "font_size": 9, "valign": "vcenter", "text_wrap": True, "border": 1}
INPUT_BG = "#EEF5E3"
HEAD_BG = "#D9D2E9"
SECTION_BG = "#E4DFEC"
FIXED_BG = "#F2F2F2"
MISSING_BG = "#FCE4D6"
CONFLICT_BG = "#FF7C80"
CONFLICT_FONT = "#9C0006"

# The workbook's default font (the "Normal" style), Arial 10 like every cell: column widths are
# counted in its digits, which Excel and LibreOffice measure alike (with XlsxWriter's default,
# Calibri, LibreOffice draws columns a third wider where Calibri is not installed).
DEFAULT_FONT: Format = {"font_name": "Arial", "font_size": 10}

# style key (as the layout names it) → properties added to BASE
STYLES: dict[str, Format] = {
    "title": {"bold": True, "font_size": 13, "align": "center", "border": 0},
    "subtitle": {"bold": True, "font_size": 10, "align": "center", "border": 0},
    "subtitle_italic": {"italic": True, "font_size": 10, "align": "center", "border": 0},
    "section": {"bold": True, "bg_color": SECTION_BG, "font_size": 10},
    "legend": {"italic": True, "font_size": 8, "font_color": "#C00000", "align": "center", "border": 0},
    "label": {},
    "field_label": {"bold": True},
    "field_label_bold": {"bold": True, "font_size": 10},
    "field_label_right": {"bold": True, "align": "right"},
    "table_head": {"bold": True, "bg_color": HEAD_BG, "align": "center"},
    "table_head_small": {"bold": True, "bg_color": HEAD_BG, "align": "center", "font_size": 8},
    "table_head_vertical": {"bold": True, "bg_color": HEAD_BG, "align": "center", "font_size": 8, "rotation": 90},
    # the instruction block of the grid sheet, its colour key showing the real colours
    "instruction": {"font_size": 9, "valign": "top"},
    "swatch_input": {"bg_color": INPUT_BG, "font_size": 8},
    "swatch_missing": {"bg_color": MISSING_BG, "font_size": 8},
    "swatch_conflict": {"bg_color": CONFLICT_BG, "font_color": CONFLICT_FONT, "font_size": 8},
    "swatch_fixed": {"bg_color": FIXED_BG, "font_size": 8},
    "identity": {"bold": True, "bg_color": "#F2F2F2"},
    "identity_small": {"bg_color": "#F2F2F2", "font_size": 8},
    "signature": {},
    "meta": {"bold": True, "align": "center", "font_size": 8},
    "competence": {"font_size": 8},
    "criterion": {"font_size": 8},
    "no_criterion": {"italic": True, "font_size": 8, "font_color": "#7F7F7F", "bg_color": "#F2F2F2", "align": "center"},
    "points": {"align": "center", "num_format": "0.0##", "bold": True},
    "mark_label": {"align": "right"},
    "mark_label_bold": {"align": "right", "bold": True, "font_size": 10},
    "mark": {"align": "center", "bold": True, "bg_color": "#FFFF00", "num_format": "0.0", "font_size": 11},
    "mark_final": {"align": "center", "bold": True, "bg_color": "#FFE699", "num_format": "0.0", "font_size": 12},
    "status": {"bold": True, "font_color": "#1F4E79"},
    "na": {"align": "center", "font_color": "#7F7F7F"},
    "computed_int": {"align": "center", "num_format": "0", "bg_color": "#F2F2F2"},
    "computed_amount": {"align": "center", "num_format": '#,##0.00" €"', "bg_color": "#F2F2F2"},
    "computed_pct": {"align": "center", "num_format": '0.0" "%', "bg_color": "#F2F2F2"},
    # inputs (unlocked)
    "input": {"bg_color": INPUT_BG, "locked": False},
    "input_long": {"bg_color": INPUT_BG, "locked": False, "valign": "top"},
    "input_date": {"bg_color": INPUT_BG, "locked": False, "num_format": "dd/mm/yyyy", "align": "center"},
    "input_int": {"bg_color": INPUT_BG, "locked": False, "num_format": "0", "align": "center"},
    "input_amount": {"bg_color": INPUT_BG, "locked": False, "num_format": '#,##0.00" €"', "align": "center"},
    "input_tick": {"bg_color": INPUT_BG, "locked": False, "align": "center", "bold": True},
    "input_level": {"bg_color": INPUT_BG, "locked": False, "align": "center", "bold": True, "font_size": 12},
    "input_mark": {
        "bg_color": INPUT_BG,
        "locked": False,
        "align": "center",
        "bold": True,
        "num_format": "0.0",
        "font_size": 11,
    },
    # recap and metadata sheets
    "recap_mark": {"align": "center", "num_format": "0.0"},
    "plain": {"border": 0, "text_wrap": False},
    # fonts of the two parts of a criterion cell (title, indicator)
    "rich_bold": {"bold": True, "font_size": 8},
    "rich_plain": {"font_size": 8},
}

# conditional format of a criterion's level cells → its properties (not added to BASE):
# "missing" when no level is ticked, "conflict" for two ticks or anything else than an X
CONDITIONAL: dict[str, Format] = {
    "missing": {"bg_color": MISSING_BG},
    "conflict": {"bg_color": CONFLICT_BG, "font_color": CONFLICT_FONT},
}
