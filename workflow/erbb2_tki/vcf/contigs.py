"""Which contig is chromosome 17: every spelling callers use, per build, and none skipped silently.

A VCF names chromosome 17 as `chr17` (UCSC), `17` (Ensembl/1000 Genomes), `Chr17`/`CHR17`
(hand-made or older tools), by its RefSeq accession (`NC_000017.10` in GRCh37,
`NC_000017.11` in GRCh38) or by its GenBank accession (`CM000679.1` GRCh37, `CM000679.2`
GRCh38); NCBI's GRCh37/GRCh38 assembly reports list these
(https://www.ncbi.nlm.nih.gov/datasets/genome/GCF_000001405.25/ and GCF_000001405.40/).
A versioned accession belongs to one build: one of the other build is an error, never a
quiet miss. A contig the header declares with chromosome 17's exact length under any other
name (e.g. `chromosome17`, `hs17`) is read as chromosome 17 too, and the sample's note says so.
"""

from __future__ import annotations

import re

from ..errors import InputError

# chr17's length per build (the same numbers as vcf.builds.CONTIG_LENGTHS["..."]["17"]).
CHR17_LENGTH = {"GRCh37": 81195210, "GRCh38": 83257441}
ACCESSIONS = {
    "NC_000017.10": "GRCh37",
    "CM000679.1": "GRCh37",
    "NC_000017.11": "GRCh38",
    "CM000679.2": "GRCh38",
}
_CONTIG_RE = re.compile(rb"^##contig=<(.*)>\s*$")


def is_chr17_name(name: str) -> bool:
    """True for every spelling of chromosome 17 whatever the build (chr17, 17, Chr17, CHR17,
    NC_000017.10/.11, CM000679.1/.2)."""
    return re.sub(r"^chr", "", name, flags=re.IGNORECASE) == "17" or name in ACCESSIONS


def primary_name(name: str) -> str:
    """'17' for any spelling of chromosome 17 (including its accessions); for other contigs the
    name without a 'chr' prefix, upper-cased (X, Y, 1...)."""
    if name in ACCESSIONS:
        return "17"
    return re.sub(r"^chr", "", name, flags=re.IGNORECASE).upper()


def check_build(name: str, build: str, where: str | None = None) -> None:
    """InputError when `name` is an accession of the other build than `build`."""
    owner = ACCESSIONS.get(name)
    if owner is not None and owner != build:
        raise InputError(
            f"contig {name} is chromosome 17 of {owner}, but the sample's build is {build}",
            path=where,
            fix=f"check the build (sheet build column or --build), or rename the contig to the "
            f"{build} accession",
        )


def header_contigs(header: bytes) -> list[tuple[bytes, int | None]]:
    """(ID, length or None) of every ##contig line, in header order."""
    found = []
    for line in header.split(b"\n"):
        match = _CONTIG_RE.match(line.rstrip(b"\r"))
        if not match:
            continue
        body = match.group(1)
        ident = re.search(rb"(?:^|,)ID=([^,>]+)", body)
        length = re.search(rb"(?:^|,)length=(\d+)", body)
        if ident:
            found.append((ident.group(1), int(length.group(1)) if length else None))
    return found


def chr17_names(header: bytes, build: str, where: str | None = None) -> tuple[set[bytes], str]:
    """(every contig name that is chromosome 17 in this file, a note about unusual ones).

    The fixed spellings are always included (a header without ##contig lines still has its
    records read); any declared contig with chr17's length for `build` is added and noted.
    """
    names = {b"chr17", b"17", b"Chr17", b"CHR17", b"CHr17", b"cHR17"}
    names |= {name.encode() for name, owner in ACCESSIONS.items() if owner == build}
    notes = []
    for ident, length in header_contigs(header):
        text = ident.decode("utf-8", "replace")
        if is_chr17_name(text):
            check_build(text, build, where)
            names.add(ident)
            if text in ACCESSIONS:
                notes.append(f"contig {text} read as chromosome 17")
        elif length == CHR17_LENGTH.get(build):
            names.add(ident)
            notes.append(f"contig {text} has chromosome 17's {build} length; read as chromosome 17")
    return names, "; ".join(notes)
