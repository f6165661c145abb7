"""Former home of the VCF reader, now the erbb2_tki.vcf package (bgzf, header, reader, builds,
samples, metrics, events). Re-exports the names annotate.py still imports from here."""

from __future__ import annotations

from .vcf.bgzf import BGZF_EOF, bgzf_block, inflate_block, iter_bgzf, iter_text, sniff, write_bgzf
from .vcf.builds import BUILDS, CONTIG_LENGTHS, BuildCall, detect_build, normalise_build
from .vcf.events import StructuralEvent, classify_alt, structural_event
from .vcf.header import VcfHead, read_header
from .vcf.metrics import SampleMetrics, sample_metrics
from .vcf.reader import open_vcf
from .vcf.samples import choose_normal_sample, choose_tumour_sample

__all__ = [
    "BGZF_EOF",
    "BUILDS",
    "CONTIG_LENGTHS",
    "BuildCall",
    "SampleMetrics",
    "StructuralEvent",
    "VcfHead",
    "bgzf_block",
    "choose_normal_sample",
    "choose_tumour_sample",
    "classify_alt",
    "detect_build",
    "inflate_block",
    "iter_bgzf",
    "iter_text",
    "normalise_build",
    "open_vcf",
    "read_header",
    "sample_metrics",
    "sniff",
    "structural_event",
    "write_bgzf",
]
