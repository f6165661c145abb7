"""Reanalysis: which patients' answers changed between two runs of the workflow.

`erbb2-tki diff OLD_RESULTS NEW_RESULTS` compares the per-sample verdict tables of two results
folders (typically the same batch before and after a knowledge-base update) and lists every
sample x drug verdict that was added, removed or changed (verdict, evidence level or the
alleles that decided it), with the reason, citations and knowledge-base version and hash
behind both sides, plus every sample whose status changed (e.g. it failed in one run).

Exit status: 0 when nothing changed, 3 (EXIT_CHANGED) when something did, 2 (cli.py) for bad
input, so a CI job can tell "answers changed, a person must look" from "the diff itself failed".

A sample that was annotated but has no row for a drug has no evidence for it: a new drug in the
knowledge base does not make every sample "added", and evidence appearing for a sample that had
none shows as a change from no_evidence. A failed sample has no answers at all: its verdicts
show as removed (or added, when it recovers), next to a status row that says why.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import InputError
from .vocab import VERDICT_COLUMNS

# pandas only for diff_runs (a DataFrame for library users); the CLI never needs it
if TYPE_CHECKING:
    import pandas as pd

EXIT_CHANGED = 3

VERDICT_REQUIRED = ("sample", "drug", "verdict")
# Every verdict column after sample and drug: what a verdict is, and the evidence behind it.
VERDICT_FIELDS = tuple(VERDICT_COLUMNS[2:])
# Fields whose change alone changes the answer a tumour board gets: the verdict, its strength in
# the sample's context (issue 11), the knowledge base's own level and the alleles behind it.
DECIDING_FIELDS = (
    "verdict",
    "level_in_context",
    "amp_tier",
    "oncokb_level",
    "evidence_level",
    "alleles",
)
# Written since the levels in context; a results folder from an earlier version has none, which
# is not a change of answer.
IN_CONTEXT_FIELDS = ("level_in_context", "amp_tier", "oncokb_level")
# Fields that change the evidence behind an unchanged answer (reported with --evidence).
EVIDENCE_FIELDS = ("context", "citations", "reason")

DIFF_COLUMNS = [
    "sample",
    "drug",
    "change",
    "fields",
    "old_status",
    "new_status",
    *[f"{side}_{name}" for name in VERDICT_FIELDS for side in ("old", "new")],
]

ABSENT = "absent"  # the sample is not in the run, or failed: there is no answer


@dataclass
class Run:
    """One results folder: each sample's status and its verdict rows keyed by drug."""

    path: Path
    status: dict[str, str] = field(default_factory=dict)
    status_reason: dict[str, str] = field(default_factory=dict)
    verdicts: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    _kb_versions: list[tuple[str, str]] | None = field(default=None, repr=False, compare=False)

    def annotated(self, sample: str) -> bool:
        """True when the sample has answers in this run (present and not failed)."""
        return sample in self.verdicts and not _failed(self.status.get(sample, "ok"))

    @property
    def samples(self) -> set[str]:
        return set(self.status) | set(self.verdicts)

    def kb_versions(self) -> list[tuple[str, str]]:
        """Distinct (kb_version, kb_hash) pairs behind this run's verdicts."""
        if self._kb_versions is None:
            self._kb_versions = self._collect_kb_versions()
        return self._kb_versions

    def _collect_kb_versions(self) -> list[tuple[str, str]]:
        pairs = {
            (row.get("kb_version", ""), row.get("kb_hash", ""))
            for sample in self.verdicts
            if self.annotated(sample)
            for row in self.verdicts[sample].values()
        }
        return sorted(pairs)


def _failed(status: str) -> bool:
    text = status.strip().lower()
    return "fail" in text or "error" in text


def _results_root(path: Path) -> Path:
    """The folder holding tables/ and batch/: the path itself, or its results/ subfolder."""
    if not path.is_dir():
        raise InputError(
            "results folder does not exist or is not a folder",
            path=str(path),
            fix="pass the results/ folder a workflow run wrote (it holds tables/ and batch/)",
        )
    for candidate in (path, path / "results"):
        if (candidate / "tables").is_dir() or (candidate / "batch" / "summary.tsv").is_file():
            return candidate
    raise InputError(
        "not an erbb2-tki results folder: it has neither tables/ nor batch/summary.tsv",
        path=str(path),
        fix="pass the results/ folder a workflow run wrote (it holds tables/ and batch/)",
    )


def _read_tsv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    """A TSV as rows of text (cells exactly as written, '' where a row is short); no pandas."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            lines = handle.read().split("\n")
    except UnicodeDecodeError as err:
        raise InputError(
            f"cannot read as a tab-separated table: {err}",
            path=str(path),
            fix="re-run the workflow so the table is rewritten",
        ) from None
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    lines = [line for line in lines if line]
    if not lines:
        raise InputError(
            "table is empty (no header line)",
            path=str(path),
            fix="re-run the workflow so the table is rewritten",
        )
    columns = lines[0].split("\t")
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(columns)}",
            path=str(path),
            field=missing[0],
            fix="pass a results folder written by erbb2-tki (tables/*.verdicts.tsv)",
        )
    from .cells import UNTRUSTED_COLUMNS, restore

    rows = []
    for line in lines[1:]:
        cells = line.split("\t")
        cells += [""] * (len(columns) - len(cells))
        # '-prefixed formula-like text back to what the sample's files say (cells.py)
        rows.append(
            {
                c: restore(v) if c in UNTRUSTED_COLUMNS else v
                for c, v in zip(columns, cells, strict=False)
            }
        )
    return rows


def load_run(path: str | os.PathLike[str]) -> Run:
    """Read a results folder: batch/summary.tsv and the verdicts.

    Verdicts come from batch/verdicts.tsv (the gathered table, consistent with the summary) when
    it exists, else from tables/*.verdicts.tsv. When there is a summary it decides which samples
    belong to the run (a per-sample table left over from a sample since removed from the sheet
    does not count) and which of them were annotated (status not failed). Raises InputError for
    a missing folder, a folder that is not a results folder, or a table without the columns the
    diff needs.
    """
    root = _results_root(Path(path))
    run = Run(path=Path(path))
    summary_path = root / "batch" / "summary.tsv"
    has_summary = summary_path.is_file()
    if has_summary:
        for row in _read_tsv(summary_path, ("sample", "status")):
            sample = row["sample"].strip()
            run.status[sample] = row["status"].strip()
            run.status_reason[sample] = str(row.get("reason", "")).strip()
    gathered = root / "batch" / "verdicts.tsv"
    if gathered.is_file():
        tables = [gathered]
    else:
        folder = root / "tables"
        tables = sorted(folder.glob("*.verdicts.tsv")) if folder.is_dir() else []
    for table in tables:
        frame = _read_tsv(table, VERDICT_REQUIRED)
        if table != gathered:
            # a sample without verdict rows still has a (header-only) table: it was annotated
            run.verdicts.setdefault(table.name.removesuffix(".verdicts.tsv"), {})
        for line, row in enumerate(frame, start=2):
            sample, drug = row["sample"].strip(), row["drug"].strip()
            by_drug = run.verdicts.setdefault(sample, {})
            if drug in by_drug:
                raise InputError(
                    f"two verdict rows for sample {sample} and drug {drug}",
                    path=str(table),
                    record=f"line {line}",
                    fix="re-run the workflow so the table is rewritten",
                )
            by_drug[drug] = {name: str(row.get(name, "")).strip() for name in VERDICT_FIELDS}
    if has_summary:
        run.verdicts = {s: v for s, v in run.verdicts.items() if s in run.status}
        for sample, status in run.status.items():
            if not _failed(status):
                run.verdicts.setdefault(sample, {})
    if not run.status and not run.verdicts:
        raise InputError(
            "results folder holds no samples (no rows in batch/summary.tsv and no verdict tables)",
            path=str(path),
            fix="pass the results/ folder of a finished workflow run",
        )
    for sample in run.verdicts:
        run.status.setdefault(sample, "ok")
    return run


def _alleles_key(text: str) -> tuple[str, ...]:
    """The deciding alleles as a set, whatever the separator or 'p.' prefix."""
    parts = re.split(r"[;,|\s]+", text)
    return tuple(sorted({p.removeprefix("p.") for p in parts if p}))


def _state(run: Run, sample: str, drug: str) -> dict[str, str] | None:
    """A sample x drug answer in a run: its row, no_evidence when annotated without a row,
    None when the sample has no answers (absent or failed)."""
    if not run.annotated(sample):
        return None
    row = run.verdicts[sample].get(drug)
    if row is not None:
        return row
    implicit = {name: "" for name in VERDICT_FIELDS} | {
        "verdict": "no_evidence",
        "reason": "no verdict row for this drug: no matching evidence",
    }
    versions = run.kb_versions()
    if len(versions) == 1:
        implicit["kb_version"], implicit["kb_hash"] = versions[0]
    return implicit


def _changed_fields(old: dict[str, str], new: dict[str, str], evidence: bool) -> list[str]:
    fields = list(DECIDING_FIELDS) + (list(EVIDENCE_FIELDS) if evidence else [])
    before_levels = any(
        side.get("verdict", "no_evidence") != "no_evidence" and not side.get("level_in_context")
        for side in (old, new)
    )
    changed = []
    for name in fields:
        if name in IN_CONTEXT_FIELDS and before_levels:
            continue  # one side was written before levels in context existed
        if name == "alleles":
            same = _alleles_key(old.get(name, "")) == _alleles_key(new.get(name, ""))
        else:
            same = old.get(name, "") == new.get(name, "")
        if not same:
            changed.append(name)
    return changed


def diff_runs(old: Run, new: Run, *, evidence: bool = False) -> pd.DataFrame:
    """diff_rows as a DataFrame (DIFF_COLUMNS plus the reason columns), for library users."""
    import pandas as pd

    return pd.DataFrame(diff_rows(old, new, evidence=evidence), columns=DIFF_COLUMNS).fillna("")


def diff_rows(old: Run, new: Run, *, evidence: bool = False) -> list[dict[str, str]]:
    """Every changed sample x drug verdict and every changed sample status, as a table.

    change is one of: status (a sample-level row, drug '*'), added, removed, changed; fields
    names what changed. evidence=True also reports answers whose citations, reason or
    tumour-type match changed while verdict, level and alleles stayed the same.
    """
    rows: list[dict[str, str]] = []
    for sample in sorted(old.samples | new.samples):
        old_status = old.status.get(sample, ABSENT)
        new_status = new.status.get(sample, ABSENT)
        base = {"sample": sample, "old_status": old_status, "new_status": new_status}
        if old_status != new_status:
            reason = new.status_reason.get(sample, "") or old.status_reason.get(sample, "")
            rows.append(
                base
                | {"drug": "*", "change": "status", "fields": "status"}
                | {"old_reason": old.status_reason.get(sample, ""), "new_reason": reason}
            )
        drugs = set(old.verdicts.get(sample, {})) | set(new.verdicts.get(sample, {}))
        for drug in sorted(drugs):
            before, after = _state(old, sample, drug), _state(new, sample, drug)
            if before is None and after is None:
                continue
            if before is None:
                change, fields = "added", ["verdict"]
            elif after is None:
                change, fields = "removed", ["verdict"]
            else:
                fields = _changed_fields(before, after, evidence)
                if not fields:
                    continue
                change = "changed"
            row = base | {"drug": drug, "change": change, "fields": ",".join(fields)}
            for name in VERDICT_FIELDS:
                row[f"old_{name}"] = (before or {}).get(name, "")
                row[f"new_{name}"] = (after or {}).get(name, "")
            rows.append(row)
    return [{name: "" for name in DIFF_COLUMNS} | r for r in rows]


def _kb_text(run: Run) -> str:
    pairs = run.kb_versions()
    if not pairs:
        return "no verdicts"
    return "; ".join(f"knowledge base {v or '?'} (hash {_short_hash(h)})" for v, h in pairs)


def _short_hash(digest: str) -> str:
    """'sha256:3553c4aa7bbe' from a full content hash: enough to tell versions apart."""
    algorithm, _, hexdigest = digest.rpartition(":")
    return f"{algorithm + ':' if algorithm else ''}{hexdigest[:12]}" if digest else "?"


def _as_rows(diff: Any) -> list[dict[str, str]]:
    """diff_rows' list, or diff_runs' DataFrame, as a list of row dicts."""
    if isinstance(diff, list):
        return diff
    return [{k: str(v) for k, v in r.items()} for r in diff.to_dict("records")]


def _answer(row: dict[str, str], side: str) -> str:
    verdict = row[f"{side}_verdict"]
    if not verdict:
        status = row[f"{side}_status"]
        return "no answer (sample absent)" if status == ABSENT else f"no answer (status {status})"
    level = row[f"{side}_level_in_context"]
    if level:  # the strength in this sample's context, and the knowledge base's own level
        tier = row[f"{side}_amp_tier"]
        oncokb = row[f"{side}_oncokb_level"]
        level = f"{level}, tier {tier}" + (f", OncoKB {oncokb}" if oncokb else "")
        level += f" (KB {row[f'{side}_evidence_level']})"
    detail = [level or row[f"{side}_evidence_level"], row[f"{side}_alleles"]]
    detail = [d for d in detail if d]
    return verdict + (f" [{'; '.join(detail)}]" if detail else "")


def format_text(old: Run, new: Run, diff: list[dict[str, str]] | pd.DataFrame) -> str:
    """The diff as text for a person: one block per sample, old -> new with the evidence."""
    diff = _as_rows(diff)
    verdict_rows = [r for r in diff if r["change"] != "status"]
    status_rows = [r for r in diff if r["change"] == "status"]
    lines = [
        f"old: {old.path}  ({len(old.samples)} samples; {_kb_text(old)})",
        f"new: {new.path}  ({len(new.samples)} samples; {_kb_text(new)})",
    ]
    if not diff:
        lines.append("No verdict changed.")
        return "\n".join(lines) + "\n"
    lines.append(
        f"{len(verdict_rows)} verdict(s) changed in {len({r['sample'] for r in verdict_rows})} "
        "sample(s); "
        f"{len(status_rows)} sample status change(s)."
    )
    groups: dict[str, list[dict[str, str]]] = {}
    for row in diff:
        groups.setdefault(row["sample"], []).append(row)
    for sample, group in sorted(groups.items()):
        lines.append("")
        lines.append(f"sample {sample}")
        for row in group:
            if row["change"] == "status":
                reason = f": {row['new_reason']}" if row["new_reason"] else ""
                lines.append(f"  status: {row['old_status']} -> {row['new_status']}{reason}")
                continue
            lines.append(
                f"  {row['drug']}: {_answer(row, 'old')} -> {_answer(row, 'new')}"
                f"  ({row['change']}: {row['fields']})"
            )
            for side in ("old", "new"):
                if not row[f"{side}_verdict"]:
                    continue
                why = row[f"{side}_reason"] or "-"
                cites = row[f"{side}_citations"]
                kb = row[f"{side}_kb_version"]
                lines.append(
                    f"    {side}: {why}"
                    + (f" [{cites}]" if cites else "")
                    + (f" (kb {kb})" if kb else "")
                )
    return "\n".join(lines) + "\n"


def write_diff_tsv(diff: list[dict[str, str]] | pd.DataFrame, out: str | os.PathLike[str]) -> None:
    """Write the diff table (DIFF_COLUMNS, cells as text) atomically."""
    from .. import fileio
    from .tables import records_tsv_bytes

    fileio.atomic_write_bytes(out, records_tsv_bytes(_as_rows(diff), DIFF_COLUMNS))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `erbb2-tki diff` to the command line."""
    parser = subparsers.add_parser(
        "diff",
        help="list the sample x drug verdicts that changed between two results folders",
        description=(
            "Compare two results folders (e.g. one batch before and after a knowledge-base "
            "update) and list every sample x drug verdict that was added, removed or changed "
            "(verdict, evidence level or deciding alleles), with the evidence and knowledge-base "
            "version behind both. Exit status: 0 nothing changed, 3 something changed, "
            "2 bad input."
        ),
    )
    parser.add_argument("old", metavar="OLD_RESULTS", help="results folder of the earlier run")
    parser.add_argument("new", metavar="NEW_RESULTS", help="results folder of the later run")
    parser.add_argument("--tsv", metavar="OUT", help="also write the changes as a TSV table")
    parser.add_argument(
        "--evidence",
        action="store_true",
        help="also report answers whose citations, reason or tumour-type match changed",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print nothing; only the exit status (and --tsv)"
    )
    parser.set_defaults(func=run_cli)


def run_cli(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    """Run the diff; 0 when nothing changed, EXIT_CHANGED when something did."""
    old, new = load_run(args.old), load_run(args.new)
    diff = diff_rows(old, new, evidence=args.evidence)
    if args.tsv:
        write_diff_tsv(diff, args.tsv)
    if not args.quiet:
        (stdout or sys.stdout).write(format_text(old, new, diff))
    return EXIT_CHANGED if diff else 0
