"""NM_004448.4 on GRCh37 and GRCh38: exons, sequence, domains, and genomic <-> transcript <-> c. mapping.

The model is read from annotations/transcripts/NM_004448.4.yaml (its header records where every
value comes from) once per process and cached. ERBB2 lies on the + strand on both builds and
GRCh38 = GRCh37 + 1,843,747 across the locus, so genomic and transcript coordinates run the same
way; the code still maps through each build's own exon table rather than assuming the offset.

Only exonic sequence is known (it equals the mRNA). `base_at` returns None for intronic and
flanking positions; callers decide what an unknown base means (REF not checkable, shift limited).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .. import paths
from ..errors import InputError
from ..yamlio import load_yaml_file

BUILDS = ("GRCh37", "GRCh38")
TRANSCRIPT_FILE = "transcripts/NM_004448.4.yaml"
# Upstream/downstream window, as VEP's default --distance.
FLANK = 5000


class Domain(NamedTuple):
    name: str
    start: int
    end: int
    source: str


@dataclass(frozen=True)
class Exon:
    """One exon: transcript span and genomic span on each build (1-based inclusive)."""

    number: int
    tx_start: int
    tx_end: int
    genomic: dict[str, tuple[int, int]]

    def start(self, build: str) -> int:
        return self.genomic[build][0]

    def end(self, build: str) -> int:
        return self.genomic[build][1]


class Location(NamedTuple):
    """Where one genomic position falls on the transcript.

    region: upstream | exon | intron | downstream. For an exon, tx is the mRNA position; for an
    intron, exon_before/exon_after are the flanking exon numbers and tx the mRNA position of the
    nearer exon edge with offset the signed distance from it (+ after a donor, - before an
    acceptor), as HGVS c. writes it. For upstream/downstream, distance is from the transcript end.
    """

    region: str
    tx: int
    offset: int
    exon: int  # exon number (exon) or the upstream exon of the intron (intron); 0 otherwise
    distance: int  # upstream/downstream distance from the transcript; 0 otherwise


@dataclass(frozen=True)
class Transcript:
    accession: str
    protein_accession: str
    gene: str
    mrna: str
    protein: str
    cds_start: int
    cds_end: int
    exons: tuple[Exon, ...]
    domains: tuple[Domain, ...]
    chrom_accessions: dict[str, str]
    source_path: str
    _tables: dict[str, tuple[list[int], list[int]]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for build in BUILDS:
            self._tables[build] = (
                [e.start(build) for e in self.exons],
                [e.end(build) for e in self.exons],
            )

    # -- basic facts -------------------------------------------------------------------------
    @property
    def exon_count(self) -> int:
        return len(self.exons)

    @property
    def cds_length(self) -> int:
        return self.cds_end - self.cds_start + 1

    def chrom_accession(self, build: str) -> str:
        """'NC_000017.10' (GRCh37) or 'NC_000017.11' (GRCh38)."""
        check_build(build)
        return self.chrom_accessions[build]

    def span(self, build: str) -> tuple[int, int]:
        """Genomic 1-based inclusive span of the transcript (first exon start .. last exon end)."""
        check_build(build)
        return self.exons[0].start(build), self.exons[-1].end(build)

    def cds_span(self, build: str) -> tuple[int, int]:
        """Genomic span of c.1 .. c.3768 (stop codon included)."""
        return self.tx_to_genomic(build, self.cds_start), self.tx_to_genomic(build, self.cds_end)

    def domain_at(self, residue: int) -> str:
        """Name of the protein domain holding a residue of NP_004439.2 ('' outside 1..1255)."""
        for domain in self.domains:
            if domain.start <= residue <= domain.end:
                return domain.name
        return ""

    # -- mapping ---------------------------------------------------------------------------
    def locate(self, build: str, pos: int) -> Location:
        """Where a genomic position lies on NM_004448.4 (see Location)."""
        check_build(build)
        starts, ends = _exon_tables(self, build)
        first, last = starts[0], ends[-1]
        if pos < first:
            return Location("upstream", 1 - (first - pos), 0, 0, first - pos)
        if pos > last:
            return Location("downstream", len(self.mrna) + (pos - last), 0, 0, pos - last)
        for i, exon in enumerate(self.exons):
            if starts[i] <= pos <= ends[i]:
                return Location("exon", exon.tx_start + (pos - starts[i]), 0, exon.number, 0)
            if pos < starts[i + 1]:
                after_donor = pos - ends[i]
                before_acceptor = starts[i + 1] - pos
                # HGVS: the intron's first half is numbered from the donor (c.N+k), the second
                # half from the acceptor (c.N-k); the middle base of an odd intron takes "+".
                if after_donor <= before_acceptor:
                    return Location("intron", exon.tx_end, after_donor, exon.number, 0)
                return Location(
                    "intron", self.exons[i + 1].tx_start, -before_acceptor, exon.number, 0
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def tx_to_genomic(self, build: str, tx: int) -> int:
        """Genomic position of an mRNA position (1..len(mrna))."""
        check_build(build)
        for exon in self.exons:
            if exon.tx_start <= tx <= exon.tx_end:
                return exon.start(build) + (tx - exon.tx_start)
        raise ValueError(f"mRNA position {tx} is outside {self.accession} (1..{len(self.mrna)})")

    def exon_of_tx(self, tx: int) -> Exon:
        for exon in self.exons:
            if exon.tx_start <= tx <= exon.tx_end:
                return exon
        raise ValueError(f"mRNA position {tx} is outside {self.accession}")

    def base_at(self, build: str, pos: int) -> str | None:
        """The reference base at a genomic position if the model knows it (exonic), else None."""
        loc = self.locate(build, pos)
        if loc.region != "exon":
            return None
        return self.mrna[loc.tx - 1]

    def tx_to_c(self, tx: int, offset: int = 0) -> str:
        """HGVS c. position text for an mRNA position (with an intronic offset): '2264', '-12',
        '*20', '2307+5', '2308-2'. Positions before the mRNA give '-N', after it '*N'."""
        if tx < self.cds_start:
            text = f"-{self.cds_start - tx}"
        elif tx > self.cds_end:
            text = f"*{tx - self.cds_end}"
        else:
            text = str(tx - self.cds_start + 1)
        if offset > 0:
            text += f"+{offset}"
        elif offset < 0:
            text += f"{offset}"
        return text

    def genomic_to_c(self, build: str, pos: int) -> str:
        """HGVS c. position text for a genomic position (exonic, intronic or flanking)."""
        loc = self.locate(build, pos)
        return self.tx_to_c(loc.tx, loc.offset)

    def c_to_tx(self, c: int) -> int:
        """mRNA position of a coding position c (1..3768; 0 is not a c. position)."""
        if c == 0:
            raise ValueError("c.0 does not exist")
        return self.cds_start + c - 1 if c > 0 else self.cds_start + c

    def c_to_genomic(self, build: str, c: int) -> int:
        """Genomic position of an exonic c. position (negative = 5' UTR)."""
        return self.tx_to_genomic(build, self.c_to_tx(c))

    def codon_genomic(self, build: str, residue: int) -> tuple[int, int, int]:
        """The three genomic positions of a codon (they may straddle an intron)."""
        first = 3 * (residue - 1) + 1
        return tuple(self.c_to_genomic(build, first + k) for k in range(3))  # type: ignore[return-value]


def check_build(build: str) -> None:
    if build not in BUILDS:
        raise ValueError(f"unknown genome build {build!r}: expected one of {', '.join(BUILDS)}")


def _exon_tables(tx: Transcript, build: str) -> tuple[list[int], list[int]]:
    return tx._tables[build]


def _join(seq: str) -> str:
    return "".join(str(seq).split()).upper()


def parse_transcript(path: Path) -> Transcript:
    """Read and check the transcript YAML (ValueError naming the file on any inconsistency)."""
    data = load_yaml_file(path)
    try:
        exons = tuple(
            Exon(
                number=int(row[0]),
                tx_start=int(row[1]),
                tx_end=int(row[2]),
                genomic={
                    "GRCh37": (int(row[3]), int(row[4])),
                    "GRCh38": (int(row[5]), int(row[6])),
                },
            )
            for row in data["exons"]
        )
        domains = tuple(
            Domain(str(d["name"]), int(d["start"]), int(d["end"]), str(d["source"]))
            for d in data["domains"]
        )
        transcript = Transcript(
            accession=str(data["accession"]),
            protein_accession=str(data["protein_accession"]),
            gene=str(data["gene"]),
            mrna=_join(data["mrna"]),
            protein=_join(data["protein"]),
            cds_start=int(data["cds_start"]),
            cds_end=int(data["cds_end"]),
            exons=exons,
            domains=domains,
            chrom_accessions={str(k): str(v) for k, v in data["chrom_accession"].items()},
            source_path=str(path),
        )
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise ValueError(f"{path}: malformed transcript model ({err})") from err
    problems = _check(transcript)
    if problems:
        raise ValueError(f"{path}: inconsistent transcript model: " + "; ".join(problems))
    return transcript


def _check(t: Transcript) -> list[str]:
    """Internal consistency: contiguous exons, exon lengths equal on both builds, CDS translates."""
    from .protein import translate

    problems = []
    if not (t.exons[0].tx_start == 1 and t.exons[-1].tx_end == len(t.mrna)):
        problems.append("exons do not cover the mRNA from 1 to its end")
    for a, b in zip(t.exons, t.exons[1:], strict=False):
        if b.tx_start != a.tx_end + 1:
            problems.append(f"exons {a.number} and {b.number} are not contiguous on the mRNA")
        for build in BUILDS:
            if b.start(build) <= a.end(build):
                problems.append(f"exons {a.number} and {b.number} overlap on {build}")
    for e in t.exons:
        for build in BUILDS:
            if e.end(build) - e.start(build) != e.tx_end - e.tx_start:
                problems.append(f"exon {e.number} length differs between mRNA and {build}")
    cds = t.mrna[t.cds_start - 1 : t.cds_end]
    if len(cds) % 3:
        problems.append("CDS length is not a multiple of 3")
    elif translate(cds) != t.protein + "*":
        problems.append("CDS does not translate to the protein followed by a single stop")
    return problems


@functools.cache
def _load(path: str) -> Transcript:
    """Parse and check the model, through the on-disk cache (diskcache.py) keyed by its bytes."""
    from .. import diskcache

    try:
        key = diskcache.key_of("transcript", Path(path).read_bytes())
    except OSError:
        return parse_transcript(Path(path))  # says what is wrong with the path
    cached: Transcript | None = diskcache.read("transcript", key, Transcript)
    if cached is not None:
        return dataclasses.replace(cached, source_path=str(path))
    transcript = parse_transcript(Path(path))
    diskcache.write("transcript", key, transcript)
    return transcript


def load_transcript(annotations_dir: Path | None = None) -> Transcript:
    """The NM_004448.4 model (cached per path; default: the project's annotations/).

    A missing or unreadable model (an annotations override without transcripts/, a broken edit)
    is an InputError naming the file, not a traceback.
    """
    base = paths.annotations_dir(annotations_dir)
    path = (Path(base) / TRANSCRIPT_FILE).resolve()
    fix = (
        f"copy {TRANSCRIPT_FILE} from the bundled annotations/ into {base}, or point "
        "--annotations / ERBB2_TKI_ANNOTATIONS at a complete copy of annotations/"
    )
    if not path.is_file():
        raise InputError(
            f"the transcript model {TRANSCRIPT_FILE} is missing from the annotations folder {base}.",
            path=str(path),
            fix=fix,
        )
    try:
        return _load(str(path))
    except InputError:
        raise
    except Exception as err:  # YAML syntax, missing keys, inconsistent coordinates
        raise InputError(
            f"the transcript model cannot be read: {' '.join(str(err).split())}",
            path=str(path),
            fix=fix,
        ) from None
