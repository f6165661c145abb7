"""Write the annotated VCF: the source records with all their fields, plus ERBB2_* INFO keys.

vcfpy's writer module has the same job. The INFO keys are Number=A, so each ALT keeps its own
value; the format follows the file name (.vcf.gz with a tabix index, .bcf, or plain .vcf).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import PROTEIN, TRANSCRIPT, __version__

if TYPE_CHECKING:
    from ..annotate import _Allele

# INFO keys added to the annotated VCF; Number=A so each ALT keeps its own value.
INFO_KEYS = [
    ("ERBB2_CSQ", "Sequence Ontology consequence(s) on NM_004448.4, '&'-joined"),
    ("ERBB2_HGVSC", "HGVS c. on NM_004448.4"),
    ("ERBB2_HGVSP", "HGVS p. on NP_004439.2 (3-letter amino acids)"),
    ("ERBB2_HGVSP_SHORT", "HGVS p. on NP_004439.2 (1-letter amino acids)"),
    ("ERBB2_EXON", "Exon (n/27) or intron (n/26, prefixed 'intron')"),
    ("ERBB2_ONCOGENICITY", "Oncogenicity from the erbb2-tki knowledge base"),
    ("ERBB2_KB", "Knowledge-base drug:response pairs, '|'-joined"),
    ("ERBB2_FLAGS", "erbb2-tki flags for this allele, '|'-joined"),
]


def _atomic_target(out: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The target and a temporary name beside it (same folder, so os.replace is atomic).

    The temporary file is not created here, so it gets the usual permissions (mkstemp's 0600
    would make the outputs unreadable to the rest of a core's group).
    """
    from .. import fileio

    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target, fileio.temp_name(target)


def _info_value(values: Iterable[str]) -> str:
    return ",".join(v if v else "." for v in values)


UNDECLARED = "Not declared in the input VCF header; declared by erbb2-tki to keep the record"


def _undeclared_header_lines(source: Path) -> list[str]:
    """Header lines for the FILTER, INFO and FORMAT tags and contigs that the source's records use
    without declaring them (a hand-edited or concatenated VCF).

    htslib reads such records with a warning but refuses to write them ("variant to be written
    has errorcode"). Reading the source once lets htslib add its placeholder definitions (INFO and
    FORMAT as Number=1 String), which are written out here with a description that says so. The
    source is the sample's extracted region, so the extra read is cheap.
    """
    from . import reader as vcf_reader

    probe = vcf_reader.open_vcf(source)
    try:
        declared = {(h.type, h.info().get("ID")) for h in probe.header_iter()}
        for _ in probe:
            pass
        lines = []
        for h in probe.header_iter():
            info = h.info()
            key = (h.type, info.get("ID"))
            if key in declared or key[1] is None:
                continue
            declared.add(key)
            if h.type == "FILTER":
                lines.append(f'##FILTER=<ID={key[1]},Description="{UNDECLARED}">')
            elif h.type in ("INFO", "FORMAT"):
                lines.append(
                    f"##{h.type}=<ID={key[1]},Number={info.get('Number', '.')},"
                    f'Type={info.get("Type", "String")},Description="{UNDECLARED}">'
                )
            elif h.type == "CONTIG":
                lines.append(f"##contig=<ID={key[1]}>")
    finally:
        probe.close()
    return lines


def _open_source(
    source: Path, read: tuple[Any, list[Any], str] | None = None
) -> tuple[Any, list[Any] | None, list[str]]:
    """(a reader of `source`, its records when already read, the header lines to add for tags
    and contigs its records use undeclared).

    One read of the (small) source in the usual case: its records are read first (or `read`
    gives them: (the reader, its records, its header text before they were read)). When htslib
    had to declare a tag or contig they use without a header line (its header text changed
    while reading), those lines are probed for and the source opened again, records unread.
    """
    from . import reader as vcf_reader

    if read is not None:
        reader, variants, header_text = read
    else:
        reader = vcf_reader.open_vcf(source)
        header_text = reader.raw_header
        variants = list(reader)
    if reader.raw_header == header_text:
        return reader, variants, []
    reader.close()
    undeclared = _undeclared_header_lines(source)
    return vcf_reader.open_vcf(source), None, undeclared


def write_annotated_vcf(
    source: Path,
    out: str | os.PathLike[str],
    alleles: list[_Allele],
    kb: Any,
    read: tuple[Any, list[Any], str] | None = None,
) -> None:
    """The source records with all their fields, plus ERBB2_* INFO keys (Number=A) and version headers.

    The format follows the name: `.vcf.gz`/`.vcf.bgz` is bgzipped with a tabix index beside it,
    `.bcf` is BCF, anything else (`.vcf`) plain text. Written atomically. `read`: the source
    already read by the caller (its reader, its records, its header text before reading them;
    the reader's header gets the new lines and the reader is closed here).
    """
    import pysam
    from cyvcf2 import Writer

    per_record: dict[int, dict[int, _Allele]] = defaultdict(dict)
    for a in alleles:
        if not a.components:
            per_record[a.record_index][a.alt_index] = a

    from .. import fileio

    target, tmp = _atomic_target(out)
    mode, suffix, indexed = vcf_output_format(target)
    tmp_vcf = tmp.with_name(tmp.name + suffix)
    try:
        reader, variants, undeclared = _open_source(source, read)
        for key, description in INFO_KEYS:
            reader.add_info_to_header(
                {"ID": key, "Number": "A", "Type": "String", "Description": description}
            )
        for line in (
            *undeclared,
            f"##erbb2_tki_version={__version__}",
            f"##erbb2_tki_transcript={TRANSCRIPT}/{PROTEIN}",
            f"##erbb2_tki_kb_version={kb.version}",
            f"##erbb2_tki_kb_hash={kb.content_hash}",
        ):
            reader.add_to_header(line)
        writer = Writer(str(tmp_vcf), reader, mode=mode)
        for record_index, variant in enumerate(reader if variants is None else variants):
            annotated = per_record.get(record_index)
            if annotated:
                values = _info_values(variant, annotated)
                for key, _ in INFO_KEYS:
                    variant.INFO[key] = _info_value(values[key])
            writer.write_record(variant)
        writer.close()
        reader.close()
        if indexed:
            pysam.tabix_index(str(tmp_vcf), preset="vcf", force=True)
            os.replace(str(tmp_vcf) + ".tbi", str(target) + ".tbi")
        os.replace(tmp_vcf, target)
    except OSError as err:  # a full disk: htslib says only "error -1 when writing"
        problem = fileio.write_error(target, err)
        if problem is None:
            raise
        raise problem from None
    finally:
        for leftover in (tmp, tmp_vcf, Path(f"{tmp_vcf}.tbi"), Path(f"{tmp_vcf}.gz")):
            leftover.unlink(missing_ok=True)


def vcf_output_format(path: str | os.PathLike[str]) -> tuple[str, str, bool]:
    """cyvcf2 writer mode, file suffix and whether a tabix index is written, from the file name."""
    name = Path(path).name.lower()
    if name.endswith((".gz", ".bgz")):
        return "wz", ".vcf.gz", True
    if name.endswith(".bcf"):
        return "wb", ".bcf", False
    return "w", ".vcf", False


def _info_values(variant: Any, annotated: dict[int, _Allele]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {key: [] for key, _ in INFO_KEYS}
    for alt_index in range(1, len(variant.ALT) + 1):
        a = annotated.get(alt_index)
        shown = a.merged_into if a is not None and a.merged_into is not None else a
        n = shown.name if shown is not None else None
        flags = (list(n.flags) if n else []) + (a.flags if a else [])
        drugs = sorted({f"{x.drug}:{x.response}" for x in shown.matches}) if shown else []
        exon = (n.exon or (f"intron{n.intron}" if n.intron else "")) if n else ""
        for key, value in (
            ("ERBB2_CSQ", n.consequence if n else ""),
            ("ERBB2_HGVSC", n.hgvsc if n else ""),
            ("ERBB2_HGVSP", n.hgvsp if n else ""),
            ("ERBB2_HGVSP_SHORT", n.hgvsp_short if n else ""),
            ("ERBB2_EXON", exon),
            ("ERBB2_ONCOGENICITY", shown.oncogenicity if shown else ""),
            ("ERBB2_KB", "|".join(drugs)),
            ("ERBB2_FLAGS", "|".join(flags)),
        ):
            values[key].append(_vcf_safe(value))
    return values


def _vcf_safe(value: str) -> str:
    """INFO values may not contain ',', ';', '=' or white space."""
    return value.replace(" ", "_").replace(",", "|").replace(";", "|").replace("=", ":")
