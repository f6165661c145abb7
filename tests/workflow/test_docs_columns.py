"""The column lists the README and config/README.md document are the columns the example writes.

Both sides are read, not restated here: the docs' tables (first cell of each row, comma-separated
names) or prose lists ("sample, drug, verdict (...), ...") under a heading or a paragraph that names
the file, and the header line of the file the example batch wrote. A column added, removed,
renamed or moved on either side fails this test until the other side follows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from workflow_helpers import PROJECT_DIR, Run

pytestmark = pytest.mark.workflow

README = PROJECT_DIR / "README.md"
CONFIG_README = PROJECT_DIR / "config" / "README.md"
# Documented table -> the example's file holding those columns.
TABLES = {
    "alleles.tsv": "results/tables/S01.alleles.tsv",
    "tki.tsv": "results/tables/S01.tki.tsv",
    "verdicts.tsv": "results/tables/S01.verdicts.tsv",
    "summary.tsv": "results/batch/summary.tsv",
}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _blocks(text: str, table: str) -> list[list[str]]:
    """The lines after each heading or paragraph that introduces `table`, up to the next heading."""
    lines = text.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        heading = stripped.startswith("#") and stripped.lstrip("#").strip().strip("`") == table
        intro = re.match(rf"^`(?:results/\w+/)?{re.escape(table)}`: ", stripped) is not None
        if heading or intro:
            block = []
            for following in lines[index + 1 :]:
                if following.startswith("#"):
                    break
                block.append(following)
            blocks.append(block)
    return blocks


def _names(cell: str) -> list[str]:
    """Column names in a comma-separated list, dropping parenthesised explanations."""
    depth, plain = 0, []
    for char in cell:
        depth += char == "("
        if depth == 0:
            plain.append(char)
        depth -= char == ")" and depth > 0
    names = []
    for part in "".join(plain).replace(" and ", ",").split(","):
        word = part.strip().strip("`").rstrip(".").strip()
        if NAME.match(word):
            names.append(word)
    return names


def documented_columns(text: str, table: str) -> list[str] | None:
    """The columns documented for `table`: a markdown table's first column, else a prose list."""
    for block in _blocks(text, table):
        rows = [line for line in block if line.startswith("|")]
        if len(rows) > 2:
            columns: list[str] = []
            for row in rows[2:]:  # after the header and |---| lines
                columns += _names(row.strip("|").split("|")[0])
            return columns
        paragraph = []
        for line in block:
            if not line.strip():
                if paragraph:
                    break
                continue
            paragraph.append(line.strip())
        names = _names(" ".join(paragraph).split(". ")[0])
        if len(names) >= 3:
            return names
    return None


def header(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n", 1)[0].split("\t")


@pytest.mark.parametrize("table", sorted(TABLES))
def test_documented_columns_are_the_written_columns(table: str, example_run: Run) -> None:
    written = header(example_run.workdir / TABLES[table])
    found = False
    for doc in (README, CONFIG_README):
        columns = documented_columns(doc.read_text(encoding="utf-8"), table)
        if columns is None:
            continue
        found = True
        assert columns == written, (
            f"{doc.relative_to(PROJECT_DIR)} documents {table} as\n  {columns}\n"
            f"but the example writes\n  {written}"
        )
    assert found, f"neither README.md nor config/README.md documents the columns of {table}"


def test_documented_workbook_sheets_are_the_written_sheets(example_run: Run) -> None:
    import openpyxl

    text = " ".join(CONFIG_README.read_text(encoding="utf-8").split())
    match = re.search(r"`summary\.xlsx`: sheets ([^,]+(?:, [^,]+)*?) and ([a-z ]+), each", text)
    assert match, "config/README.md no longer says which sheets summary.xlsx has"
    documented = [s.strip() for s in match.group(1).split(",")] + [match.group(2).strip()]
    workbook = openpyxl.load_workbook(example_run.workdir / "results/batch/summary.xlsx")
    assert documented == workbook.sheetnames
