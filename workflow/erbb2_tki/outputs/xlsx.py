"""The Excel workbook, written as SpreadsheetML straight into the zip.

openpyxl builds an object per cell, which at ~1 million cells took 30 s and 300 MB; even its
write-only mode takes ~20 µs a cell. Here each worksheet's XML is streamed into the zip in pieces:
header row bold and frozen, autofilter on, columns as wide as their text, numbers as numbers,
fills from the verdict vocabulary, deterministic (fixed zip dates and document times) and atomic.
"""

from __future__ import annotations

import itertools
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import vocab
from .tables import FileTable, Table, excel_fills

if TYPE_CHECKING:
    import pandas as pd

# Fixed stamp for the workbook (zip entries and document properties): outputs carry no run time.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = "1980-01-01T00:00:00Z"
MAX_COLUMN_WIDTH = 60
_MAX_FRAGMENTS = 100_000  # distinct cell texts remembered per sheet (memory stays bounded)

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
# Characters XML 1.0 cannot hold; Excel's own escape for them is _xHHHH_.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _excel_value(value: object) -> object:
    """Numbers stored as text in the TSVs become numbers in Excel (so filters sort them)."""
    text = "" if value is None else str(value)
    if _NUMBER.match(text) and len(text) < 16:
        return float(text) if "." in text else int(text)
    return text


def _xml_text(text: str) -> str:
    """Text as XML character data, with Excel's _xHHHH_ escapes for what XML cannot hold."""
    if _EXCEL_ESCAPE.search(text):  # a literal "_x0041_" must not be read as an escape
        text = _EXCEL_ESCAPE.sub(lambda m: "_x005F" + m.group(0), text)
    if _XML_ILLEGAL.search(text):
        text = _XML_ILLEGAL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell_xml(text: str) -> str:
    """A cell's XML after its reference (the part that depends only on its text).

    Numbers as <v> (as Python writes the number openpyxl would store), text as an inline string
    (the form openpyxl writes, so the workbook reads back the same), empty cells are omitted.
    """
    value = _excel_value(text)
    if not isinstance(value, str):
        return f'"><v>{value!r}</v></c>'
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f'" t="inlineStr"><is><t{space}>{_xml_text(value)}</t></is></c>'


def _column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_widths(table: Table | FileTable) -> list[int]:
    """Each column as wide as its longest text (header included) + 2, between 8 and 60."""
    longest = [len(c) for c in table.columns]
    rows = table.rows()
    while block := list(itertools.islice(rows, 5000)):  # columns of 5,000 rows at a time
        for i, cells in enumerate(zip(*block, strict=True)):
            longest[i] = max(longest[i], *map(len, cells))
    return [max(min(n + 2, MAX_COLUMN_WIDTH), 8) for n in longest]


class _Fragments(dict[str, str]):
    """text -> its cell XML (_cell_xml), made once per distinct text: batch tables repeat most.

    With `style_of` (text -> style id or None), a cell whose text has a style carries it."""

    def __init__(self, style_of: Callable[[str], int | None] | None = None) -> None:
        super().__init__()
        self.style_of = style_of

    def __missing__(self, text: str) -> str:
        fragment = _cell_xml(text)
        style = self.style_of(text) if self.style_of is not None else None
        if style is not None:
            fragment = f'" s="{style}' + fragment
        self[text] = fragment
        return fragment


def _sheet_chunks(
    table: Table | FileTable,
    selected: bool,
    style_of: Callable[[str], int | None] | None = None,
    link: tuple[str, str] | None = None,
    links: list[tuple[str, str]] | None = None,
) -> Iterator[str]:
    """One worksheet's XML, in pieces: frozen header row, widths, cells, autofilter.

    style_of: text -> cell style id (or None). link: (column, prefix): each non-empty cell of
    that column becomes a hyperlink to prefix + the cell's text (a relative path, URL-encoded);
    its (cell reference, target) pairs are appended to `links` and the sheet's <hyperlinks>
    refers to them as relationships rId1, rId2... (write_excel writes the sheet's rels part)."""
    n_columns = max(len(table.columns), 1)
    last = f"{_column_letter(n_columns)}{table.n_rows + 1}"
    letters = [_column_letter(i) for i in range(1, len(table.columns) + 1)]
    tab = ' tabSelected="1"' if selected else ""
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
        for i, w in enumerate(_column_widths(table), start=1)
    )
    yield (
        f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        f'<dimension ref="A1:{last}"/>'
        f'<sheetViews><sheetView{tab} workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + "<sheetData>"
    )
    header = "".join(
        f'<c r="{letter}1" s="1" t="inlineStr"><is><t>{_xml_text(name)}</t></is></c>'
        for letter, name in zip(letters, table.columns, strict=True)
    )
    yield f'<row r="1">{header}</row>'
    fragments = _Fragments(style_of)
    link_index = table.columns.index(link[0]) if link and link[0] in table.columns else -1
    chunk: list[str] = []
    for number, cells in enumerate(table.rows(), start=2):
        parts = [
            f'<c r="{letter}{number}{fragments[text]}' if text else ""
            for letter, text in zip(letters, cells, strict=True)
        ]
        if link_index >= 0 and cells[link_index] and links is not None and link is not None:
            ref = f"{letters[link_index]}{number}"
            links.append((ref, link[1] + vocab.href(cells[link_index])))
            parts[link_index] = f'<c r="{ref}" s="{LINK_STYLE}{_cell_xml(cells[link_index])}'
        row = "".join(parts)
        chunk.append(f'<row r="{number}">{row}</row>')
        if len(fragments) > _MAX_FRAGMENTS:  # a column of distinct texts: start the cache anew
            fragments.clear()
        if len(chunk) >= 2000:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)
    hyperlinks = ""
    if links:
        hyperlinks = (
            "<hyperlinks>"
            + "".join(
                f'<hyperlink ref="{ref}" r:id="rId{i}"/>'
                for i, (ref, _) in enumerate(links, start=1)
            )
            + "</hyperlinks>"
        )
    yield (
        f'</sheetData><autoFilter ref="A1:{last}"/>{hyperlinks}'
        '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
        "</worksheet>"
    )


def _xml_attribute(text: str) -> str:
    return _xml_text(text).replace('"', "&quot;")


def _package_parts(names: Sequence[str], tables: Sequence[Table | FileTable]) -> dict[str, str]:
    """Every part of the workbook but the worksheets."""
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_type}"/>'
        for i in range(1, len(names) + 1)
    )
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheets = "".join(
        f'<sheet name="{_xml_attribute(name)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"'{_xml_text(name.replace(chr(39), chr(39) * 2))}'!$A$1:"
        f"${_column_letter(max(len(t.columns), 1))}${t.n_rows + 1}</definedName>"
        for i, (name, t) in enumerate(zip(names, tables, strict=True))
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{office}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(names) + 1)
    )
    n = len(names)
    return {
        "[Content_Types].xml": (
            f"{XML_DECLARATION}"
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}"
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/'
            'vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'{XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{office}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{office}/extended-properties" '
            'Target="docProps/app.xml"/></Relationships>'
        ),
        "docProps/app.xml": (
            f"{XML_DECLARATION}<Properties xmlns="
            '"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>erbb2-tki</Application></Properties>"
        ),
        "docProps/core.xml": (
            f"{XML_DECLARATION}<cp:coreProperties "
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<dc:creator>erbb2-tki</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{FIXED_DOC_TIME}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{FIXED_DOC_TIME}</dcterms:modified>'
            "</cp:coreProperties>"
        ),
        "xl/workbook.xml": (
            f'{XML_DECLARATION}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{sheets}</sheets>"
            + (f"<definedNames>{filters}</definedNames>" if filters else "")
            + "</workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}">{sheet_rels}'
            f'<Relationship Id="rId{n + 1}" Type="{office}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": _styles_xml(),
    }


# Cell styles: 0 Calibri 11; 1 the same in bold (header cells); 2 a hyperlink (blue,
# underlined); then one per excel_fills() key, in its order (solid fill, font colour for contrast).
LINK_STYLE = 2
FIRST_FILL_STYLE = 3


def style_ids() -> dict[str, int]:
    """excel_fills() key -> cell style id."""
    return {key: FIRST_FILL_STYLE + i for i, key in enumerate(excel_fills())}


def _argb(colour: str) -> str:
    return "FF" + colour.lstrip("#").upper()


def _styles_xml() -> str:
    fills = excel_fills()
    font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
    fonts = [
        f"<font>{font}</font>",
        f"<font><b/>{font}</font>",
        '<font><u/><sz val="11"/><color rgb="FF0563C1"/><name val="Calibri"/>'
        '<family val="2"/></font>',
    ]
    fill_xml = [
        '<fill><patternFill patternType="none"/></fill>',
        '<fill><patternFill patternType="gray125"/></fill>',
    ]
    xfs = [
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
        '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
    ]
    for background, text in fills.values():
        fonts.append(
            f'<font><sz val="11"/><color rgb="{_argb(text)}"/><name val="Calibri"/>'
            '<family val="2"/></font>'
        )
        fill_xml.append(
            f'<fill><patternFill patternType="solid"><fgColor rgb="{_argb(background)}"/>'
            '<bgColor indexed="64"/></patternFill></fill>'
        )
        xfs.append(
            f'<xf numFmtId="0" fontId="{len(fonts) - 1}" fillId="{len(fill_xml) - 1}" '
            'borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
        )
    return (
        f'{XML_DECLARATION}<styleSheet xmlns="{MAIN_NS}">'
        f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts>'
        f'<fills count="{len(fill_xml)}">{"".join(fill_xml)}</fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
        "</borders>"
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    )


def _style_id_func(
    func: Callable[[str], str | None], ids: Mapping[str, int]
) -> Callable[[str], int | None]:
    def style_id(text: str) -> int | None:
        key = func(text)
        return ids.get(key) if key else None

    return style_id


def _zip_entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed date and mode (outputs carry no run time), deflated at level 1."""
    entry = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry._compresslevel = 1  # type: ignore[attr-defined]  # (public as compress_level in 3.13)
    entry.external_attr = 0o644 << 16
    return entry


def write_excel(
    sheets: Mapping[str, pd.DataFrame | Table | FileTable],
    path: str | os.PathLike[str],
    *,
    styles: Mapping[str, Callable[[str], str | None]] | None = None,
    links: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """One sheet per table: header row bold and frozen, autofilter on, columns as wide as their text.

    Cells that look like numbers are stored as numbers. styles: sheet name -> a function giving
    a cell's fill (a key of excel_fills(), or None) from its text. links: sheet name ->
    (column, prefix): that column's cells link to prefix + their text (e.g. the summary's
    `report` column to "../" + reports/S01.html, relative to the workbook in results/batch/).
    Streamed: each worksheet's XML goes into the zip in pieces, the zip straight into a temporary
    file beside `path` (a FileTable's rows are read from disk), so memory does not follow the
    tables' size. Deterministic (fixed zip dates and document times) and atomic.
    """
    from .. import fileio

    names = [name[:31] for name in sheets]
    tables: list[Table | FileTable] = [
        t if isinstance(t, Table | FileTable) else Table.from_frame(t) for t in sheets.values()
    ]
    ids = style_ids()
    style_funcs: list[Callable[[str], int | None] | None] = []
    for name in sheets:
        func = (styles or {}).get(name)
        style_funcs.append(None if func is None else _style_id_func(func, ids))
    sheet_links = [(links or {}).get(name) for name in sheets]

    def write(temp: Path) -> None:
        # Level 1: a third of level 6's time on ~50 MB of XML, for a file ~1.3x the size.
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
            parts = _package_parts(names, tables)
            for name, text in parts.items():
                book.writestr(_zip_entry(name), text)
            for i, table in enumerate(tables, start=1):
                found: list[tuple[str, str]] = []
                with book.open(_zip_entry(f"xl/worksheets/sheet{i}.xml"), "w") as sheet:
                    chunks = _sheet_chunks(
                        table, i == 1, style_funcs[i - 1], sheet_links[i - 1], found
                    )
                    for chunk in chunks:
                        sheet.write(chunk.encode("utf-8"))
                if found:
                    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
                    rels = "".join(
                        f'<Relationship Id="rId{k}" Type="{office}/hyperlink" '
                        f'Target="{_xml_attribute(target)}" TargetMode="External"/>'
                        for k, (_, target) in enumerate(found, start=1)
                    )
                    book.writestr(
                        _zip_entry(f"xl/worksheets/_rels/sheet{i}.xml.rels"),
                        f'{XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}">{rels}</Relationships>',
                    )

    fileio.atomic_write_with(path, write)
