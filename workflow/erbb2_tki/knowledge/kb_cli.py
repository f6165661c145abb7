"""`erbb2-tki kb validate | show | diff | hash | concordance`: look after the knowledge base from the command line.

validate  load DIR (default: the project's annotations/knowledge) with every check and summarise it
show      what the knowledge base says about one allele (L755S, p.Leu755Ser, A775_G776insYVMA),
          a codon (L755) or a class (exon20_insertion): classes, oncogenicity, every evidence row
          grouped by drug with citations, the conflicts, and the verdict per drug
diff      evidence added, removed and changed between two versions, by stable evidence_id
hash      print the per-file and content hashes; --write records them in metadata.yaml (cutting a
          version); without --write the exit status is 1 when they differ from metadata.yaml
concordance  cross-check against a CIViC evidence export (concordance.py)
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from ..errors import InputError
from ..naming.model import AlleleName, ProteinChange
from ..yamlio import load_yaml

EXIT_DIFFERENT = 1


def register(subparsers: Any) -> None:
    """Add `kb` and its subcommands to the top-level parser."""
    kb = subparsers.add_parser(
        "kb",
        help="validate, show, diff and hash the knowledge base",
        description="Look after the ERBB2 x drug knowledge base in annotations/knowledge/.",
    )
    sub = kb.add_subparsers(dest="kb_command", required=True, metavar="SUBCOMMAND")

    p = sub.add_parser("validate", help="load a knowledge base with every check and summarise it")
    p.add_argument("directory", nargs="?", help="knowledge-base folder (default: the project's)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("show", help="what the knowledge base says about an allele, codon or class")
    p.add_argument(
        "allele", help="e.g. L755S, p.Leu755Ser, A775_G776insYVMA, L755, exon20_insertion"
    )
    p.add_argument(
        "--tumor-type",
        "--tumour-type",
        dest="tumour_type",
        help="OncoTree code of the sample (marks evidence as same/other tumour type)",
    )
    p.add_argument("--drug", help="only this drug (generic, synonym or brand name)")
    p.add_argument("--dir", dest="directory", help="knowledge-base folder (default: the project's)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("diff", help="evidence added, removed and changed between two versions")
    p.add_argument("old", help="the older knowledge-base folder")
    p.add_argument("new", help="the newer knowledge-base folder")
    p.add_argument("--tsv", help="also write the changes as TSV (change, id, field, old, new)")
    p.add_argument(
        "--unreleased",
        action="store_true",
        help="do not require NEW's hashes to match its metadata (diff an edit before cutting it)",
    )
    p.add_argument(
        "--exit-code",
        action="store_true",
        help=f"exit with status {EXIT_DIFFERENT} when anything differs",
    )
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser(
        "hash", help="print the content hash; --write records it (cutting a version)"
    )
    p.add_argument("directory", nargs="?", help="knowledge-base folder (default: the project's)")
    p.add_argument("--write", action="store_true", help="record the hashes in metadata.yaml")
    p.set_defaults(func=cmd_hash)

    from . import concordance

    concordance.register(sub)


# --------------------------------------------------------------------------------------------
# validate


def cmd_validate(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from .. import knowledge

    out = out or sys.stdout
    kb = knowledge.load_knowledge(args.directory)
    kinds: dict[str, int] = {}
    for row in kb.evidence:
        kinds[row.alteration_kind] = kinds.get(row.alteration_kind, 0) + 1
    print(f"knowledge base {kb.directory}", file=out)
    print(f"  version {kb.version}, released {kb.release_date}", file=out)
    print(f"  content hash {kb.content_hash} (matches metadata.yaml)", file=out)
    print(
        f"  {len(kb.evidence)} evidence rows ("
        + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        + f"), {len(kb.alleles)} distinct alleles, {len(kb.codons)} codons",
        file=out,
    )
    print(
        f"  {len(kb.drugs)} drugs, {len(kb.classes)} classes ({', '.join(kb.classes)}), "
        f"{len(kb.oncotree.nodes)} OncoTree codes ({len(kb.oncotree.main_types)} main types), "
        f"{len(kb.germline)} germline polymorphisms",
        file=out,
    )
    print("  all tables match their schemas and every cross-reference resolves: OK", file=out)
    return 0


# --------------------------------------------------------------------------------------------
# show


def _pseudo_allele(pc: ProteinChange) -> AlleleName:
    """An AlleleName standing for a protein change typed by a person (no genomic record)."""
    from ..naming.protein import hgvsp_names

    hgvsp, short = hgvsp_names(pc)
    return AlleleName(
        build="",
        chrom="",
        pos=0,
        ref="",
        alt="",
        key_pos=0,
        key_ref="",
        key_alt="",
        variant_type="",
        consequence="",
        hgvsg="",
        hgvsc="",
        hgvsp=hgvsp,
        hgvsp_short=short,
        protein=pc,
    )


def cmd_show(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from .. import knowledge

    out = out or sys.stdout
    kb = knowledge.load_knowledge(args.directory)
    sample_code = kb.resolve_tumour_type(args.tumour_type)
    drug = kb.drug(args.drug).name if args.drug else None
    text = args.allele.strip()
    class_name = next((c for c in kb.classes if c.lower() == text.lower()), None)
    pc = None
    if class_name is None:
        try:
            pc = kb.canonical(text)
        except ValueError as err:
            raise _not_an_alteration(kb, text, err) from None
    print(
        f"knowledge base {kb.version} ({kb.release_date}, {kb.content_hash[:19]}...)",
        file=out,
    )
    if class_name is not None:
        return _show_class(kb, class_name, sample_code, drug, out)
    assert pc is not None
    if pc.kind == "codon":
        return _show_codon(kb, pc, sample_code, drug, out)
    return _show_allele(kb, text, pc, sample_code, drug, out)


def _not_an_alteration(kb: Any, text: str, err: ValueError) -> InputError:
    """What `kb show TEXT` says when TEXT is not a protein change, codon or class.

    A drug name gets pointed at --drug; text that does not start like a protein change (a residue
    and its number) is simply not a known alteration (the protein parser's detail, e.g. about X,
    would only confuse); otherwise the parser says what is wrong with the protein change.
    """
    fix = (
        "give a protein change on NP_004439.2 (L755S, p.Leu755Ser, A775_G776insYVMA), a codon "
        f"(L755) or a class ({', '.join(kb.classes)})"
    )
    try:
        drug = kb.drug(text)
    except InputError:
        drug = None
    if drug is not None:
        return InputError(
            f"{text!r} is a drug ({drug.name}), not an alteration.",
            fix=f"to see one drug's evidence for an allele: erbb2-tki kb show L755S --drug {drug.name}",
        )
    if not re.match(r"^(p\.)?\(?([A-Z][a-z]{2}|[A-Z*])\d", text):
        import difflib

        close = difflib.get_close_matches(text.lower(), list(kb.classes), n=2, cutoff=0.5)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        return InputError(
            f"{text!r} is not a known alteration, codon, class or drug of the knowledge base{hint}.",
            field="ALLELE",
            fix=fix,
        )
    return InputError(f"{text!r} is not a known alteration: {err}.", field="ALLELE", fix=fix)


def _context_line(kb: Any, sample_code: str | None) -> str:
    if sample_code is None:
        return "tumour type: not given (add --tumor-type CODE to mark same/other tumour type)"
    return f"tumour type: {kb.oncotree.describe(sample_code)}"


def _show_allele(
    kb: Any, text: str, pc: ProteinChange, sample_code: str | None, drug: str | None, out: TextIO
) -> int:
    from . import interpret

    allele = _pseudo_allele(pc)
    written = f"; written {text}" if text not in (pc.short, allele.hgvsp_short) else ""
    print(f"allele {allele.hgvsp_short} ({allele.hgvsp} on NP_004439.2{written})", file=out)
    classes = kb.classes_of(allele)
    print(f"classes: {', '.join(classes) if classes else 'none'}", file=out)
    print(f"oncogenicity: {kb.oncogenicity(allele)}", file=out)
    print(_context_line(kb, sample_code), file=out)
    matches = kb.match(allele, sample_code)
    if drug:
        matches = [m for m in matches if m.drug == drug]
    _print_matches(kb, matches, out)
    verdicts = interpret.verdicts([(allele, matches)], sample_code, kb)
    if drug:
        verdicts = [v for v in verdicts if v.drug == drug]
    _print_verdicts(verdicts, sample_code, out)
    return 0


def _show_codon(
    kb: Any, pc: ProteinChange, sample_code: str | None, drug: str | None, out: TextIO
) -> int:
    print(f"codon {pc.short} (any missense or in-frame change of residue {pc.start})", file=out)
    print(_context_line(kb, sample_code), file=out)
    rows = [r for r in kb.evidence if r.protein is not None and r.protein.start == pc.start]
    rows += [
        r
        for r in kb.evidence
        if r.alteration_kind == "allele"
        and r.protein is not None
        and r.protein.start < pc.start <= r.protein.end
    ]
    if drug:
        rows = [r for r in rows if r.drug == drug]
    alleles = sorted({r.protein.short for r in rows if r.alteration_kind == "allele"})
    print(f"alleles with evidence at this codon: {', '.join(alleles) or 'none'}", file=out)
    matches = [kb.evidence_match(r, sample_code) for r in rows]
    _print_matches(kb, matches, out)
    return 0


def _show_class(kb: Any, name: str, sample_code: str | None, drug: str | None, out: TextIO) -> int:
    cls = kb.classes[name]
    print(f"class {name}: {cls.definition}", file=out)
    if cls.alleles:
        print(f"listed alleles: {' '.join(pc.short for pc in cls.alleles)}", file=out)
    if cls.includes:
        print(f"includes: {', '.join(cls.includes)}", file=out)
    if cls.within:
        print(f"within (members must also be): {', '.join(cls.within)}", file=out)
    if cls.source:
        print(f"source: {cls.source}", file=out)
    print(_context_line(kb, sample_code), file=out)
    rows = [r for r in kb.evidence if r.alteration_kind == "class" and r.alteration == name]
    if drug:
        rows = [r for r in rows if r.drug == drug]
    _print_matches(kb, [kb.evidence_match(r, sample_code) for r in rows], out)
    return 0


def _print_matches(kb: Any, matches: list[Any], out: TextIO) -> None:
    if not matches:
        print("\nno evidence rows", file=out)
        return
    order = {name: i for i, name in enumerate(kb.drugs)}
    drugs = sorted({m.drug for m in matches}, key=lambda d: order[d])
    print(f"\nevidence ({len(matches)} rows, {len(drugs)} drugs):", file=out)
    for drug in drugs:
        info = kb.drugs[drug]
        print(f"\n  {drug}  [{info.kind}; {info.regulatory_status}]", file=out)
        for m in (m for m in matches if m.drug == drug):
            place = "pan" if m.tumour_type == "pan" else m.tumour_type
            print(
                f"    {m.response:<19} {m.evidence_level} {m.evidence_type:<20} {place:<8} "
                f"{m.tumour_type_match:<17} {m.match_basis:<22} {m.evidence_id}",
                file=out,
            )
            primary, secondary = _split_citations(m.citations)
            print(f"        citations: {';'.join(primary)}", file=out)
            if secondary:
                print(f"        CIViC: {', '.join(secondary)}", file=out)
            if m.note:
                print(f"        note: {m.note}", file=out)
    sides: dict[str, set[str]] = {}
    for m in matches:
        side = kb.rules.response_side.get(m.response, "neither")
        sides.setdefault(m.drug, set()).add(side)
    conflicts = [d for d in drugs if {"sensitivity", "resistance"} <= sides.get(d, set())]
    if conflicts:
        print("\nconflicts (sensitivity and resistance rows for the same drug):", file=out)
        for drug in conflicts:
            rows = [m for m in matches if m.drug == drug]
            pro = [m for m in rows if kb.rules.response_side.get(m.response) == "sensitivity"]
            con = [m for m in rows if kb.rules.response_side.get(m.response) == "resistance"]
            print(
                f"  {drug}: {_ids(pro)} vs {_ids(con)}",
                file=out,
            )


def _split_citations(citations: str) -> tuple[list[str], list[str]]:
    """(primary sources, CIViC evidence items with their links) of a row's citations."""
    from . import SECONDARY_CITATION_PREFIX

    primary: list[str] = []
    secondary: list[str] = []
    for cite in citations.split(";"):
        if cite.startswith(SECONDARY_CITATION_PREFIX):
            number = cite.removeprefix(SECONDARY_CITATION_PREFIX).removeprefix("EID")
            secondary.append(f"{cite} (https://civicdb.org/links/evidence_items/{number})")
        elif cite:
            primary.append(cite)
    return primary, secondary


def _ids(rows: list[Any]) -> str:
    return ", ".join(
        f"{m.evidence_id} {m.response} {m.evidence_level} ({m.citations})" for m in rows
    )


def _print_verdicts(verdicts: list[Any], sample_code: str | None, out: TextIO) -> None:
    context = (
        f"a sample of tumour type {sample_code}"
        if sample_code
        else "a sample of unstated tumour type"
    )
    print(f"\nverdict per drug for {context} carrying only this allele:", file=out)
    for v in verdicts:
        level = f" (level {v.evidence_level})" if v.evidence_level else ""
        print(f"  {v.drug:<38} {v.verdict}{level}: {v.reason}", file=out)


# --------------------------------------------------------------------------------------------
# diff


def evidence_diff(old: Any, new: Any) -> list[tuple[str, str, str, str, str]]:
    """(change, evidence_id, field, old, new) for every difference in evidence, by evidence_id."""
    old_rows = {r.evidence_id: r for r in old.evidence}
    new_rows = {r.evidence_id: r for r in new.evidence}
    changes: list[tuple[str, str, str, str, str]] = []
    for eid in sorted(set(old_rows) | set(new_rows)):
        if eid not in new_rows:
            changes.append(("removed", eid, "", _summary(old_rows[eid]), ""))
        elif eid not in old_rows:
            changes.append(("added", eid, "", "", _summary(new_rows[eid])))
        else:
            a, b = old_rows[eid].fields(), new_rows[eid].fields()
            for name in a:
                if a[name] != b[name]:
                    changes.append(("changed", eid, name, a[name], b[name]))
            if old_rows[eid].evidence_level != new_rows[eid].evidence_level:
                changes.append(
                    (
                        "changed",
                        eid,
                        "evidence_level",
                        old_rows[eid].evidence_level,
                        new_rows[eid].evidence_level,
                    )
                )
    return changes


def table_diff(old: Any, new: Any) -> list[tuple[str, str, str, str, str]]:
    """Changes to drugs, classes and verdict rules (things that change verdicts without an id)."""
    changes: list[tuple[str, str, str, str, str]] = []
    for table, a, b in (
        ("drug", old.drugs, new.drugs),
        ("class", old.classes, new.classes),
    ):
        for name in sorted(set(a) | set(b)):
            if name not in b:
                changes.append((f"{table} removed", name, "", "", ""))
            elif name not in a:
                changes.append((f"{table} added", name, "", "", ""))
            else:
                for fname, va in vars(a[name]).items():
                    if fname == "line":
                        continue
                    vb = vars(b[name])[fname]
                    if _text(va) != _text(vb):
                        changes.append((f"{table} changed", name, fname, _text(va), _text(vb)))
    for fname, va in vars(old.rules).items():
        vb = vars(new.rules)[fname]
        if va != vb:
            changes.append(("verdict rule changed", fname, "", _text(va), _text(vb)))
    for fname, va in vars(old.levels).items():
        vb = vars(new.levels)[fname]
        if va != vb:
            changes.append(("level scale changed", fname, "", _text(va), _text(vb)))
    return changes


def _text(value: Any) -> str:
    if isinstance(value, tuple | list):
        return " ".join(_text(v) for v in value)
    if isinstance(value, ProteinChange):
        return value.short
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def _summary(row: Any) -> str:
    return (
        f"{row.alteration} ({row.alteration_kind}) {row.drug} {row.response} "
        f"{row.evidence_type} {row.tumour_type} [{row.citations}]"
    )


def cmd_diff(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from .. import knowledge

    out = out or sys.stdout
    old = knowledge.load_knowledge(args.old)
    new = knowledge.load_knowledge(args.new, check_hash=not args.unreleased)
    evidence = evidence_diff(old, new)
    tables = table_diff(old, new)
    print(
        f"knowledge base {old.version} ({old.release_date}, {old.content_hash[:19]}...) -> "
        f"{new.version} ({new.release_date}, {new.content_hash[:19]}...)",
        file=out,
    )
    counts = {
        kind: len({c[1] for c in evidence if c[0] == kind})
        for kind in ("added", "removed", "changed")
    }
    unchanged = len({r.evidence_id for r in old.evidence} & {r.evidence_id for r in new.evidence})
    unchanged -= counts["changed"]
    print(
        f"evidence: {counts['added']} added, {counts['removed']} removed, "
        f"{counts['changed']} changed, {unchanged} unchanged",
        file=out,
    )
    for change, eid, fname, before, after in evidence:
        if change == "added":
            print(f"  added    {eid}  {after}", file=out)
        elif change == "removed":
            print(f"  removed  {eid}  {before}", file=out)
        else:
            print(f"  changed  {eid}  {fname}: {before!r} -> {after!r}", file=out)
    if tables:
        print(f"other changes: {len(tables)}", file=out)
        for change, name, fname, before, after in tables:
            detail = f" {fname}" if fname else ""
            values = f": {before!r} -> {after!r}" if before or after else ""
            print(f"  {change}  {name}{detail}{values}", file=out)
    touches = knowledge.touched(old, new)
    if touches["every_sample"]:
        print(f"touches: every sample ({'; '.join(touches['every_sample'])})", file=out)
    elif any(touches[k] for k in ("alleles", "codons", "classes")):
        print("touches: only samples with one of these (the others keep their outputs):", file=out)
        for key in ("alleles", "codons", "classes"):
            print(f"  {key}: {', '.join(touches[key]) or '-'}", file=out)
    else:
        print("touches: no sample (no evidence row and no other table changed)", file=out)
    if args.tsv:
        _write_tsv(Path(args.tsv), evidence + tables)
    if args.exit_code and (evidence or tables):
        return EXIT_DIFFERENT
    return 0


def _write_tsv(path: Path, rows: list[tuple[str, str, str, str, str]]) -> None:
    from .. import fileio

    handle = io.StringIO(newline="")
    writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
    writer.writerow(["change", "id", "field", "old", "new"])
    writer.writerows(rows)
    fileio.atomic_write_text(path, handle.getvalue())


# --------------------------------------------------------------------------------------------
# hash


def cmd_hash(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from .. import knowledge

    out = out or sys.stdout
    base = knowledge.knowledge_dir(args.directory)
    if args.write:
        content_hash, changed = knowledge.write_hashes(base)
        state = "written to" if changed else "already recorded in"
        print(f"{content_hash} {state} {base / knowledge.METADATA_FILE}", file=out)
        return 0
    files, content_hash = knowledge.compute_hashes(base)
    for name in sorted(files):
        print(f"{files[name]}  {name}", file=out)

    meta = load_yaml((base / knowledge.METADATA_FILE).read_text(encoding="utf-8")) or {}
    recorded = meta.get("content_hash")
    if recorded == content_hash:
        print(f"content hash {content_hash} (matches metadata.yaml)", file=out)
        return 0
    print(
        f"content hash {content_hash} differs from metadata.yaml ({recorded}): "
        "cut a new version with `erbb2-tki kb hash --write`",
        file=out,
    )
    return EXIT_DIFFERENT
