"""Which alleles may decide a verdict: their origin (germline, somatic, unknown) and the reasons not.

The policy of README "Germline alleles" (config keys germline_*): a matched normal that carries
the ALT, or a listed common polymorphism, makes an allele germline; a merged in-cis component, an
unnamed or reference-mismatched allele, a filtered call or an ALT the tumour genotype lacks is kept
in the tables with used_for_verdict = no:<reason>, never counted for a drug.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .calls import _Allele


@dataclass(frozen=True)
class GermlinePolicy:
    """When an allele is called germline (config keys germline_*; README "Germline alleles").

    An allele is germline when the matched normal column carries it: its genotype there contains
    the ALT, or its VAF there is at least `normal_vaf` with a depth of at least `normal_min_depth`;
    or when it is a common polymorphism listed in the knowledge base's germline.tsv and
    `exclude_listed` is true (unless the normal column shows it somatic). It is somatic when a normal column with at least `normal_min_depth`
    reads shows no sign of it, and unknown otherwise (no normal column, or too few reads).
    """

    normal_vaf: float = 0.2
    normal_min_depth: int = 10
    exclude_listed: bool = True


GERMLINE = "germline"


SOMATIC = "somatic"


UNKNOWN_ORIGIN = "unknown"


def _normal_origin(m: Any, alt_index: int, policy: GermlinePolicy) -> str:
    """germline / somatic / unknown from the matched normal's metrics for one ALT."""
    if m is None:
        return UNKNOWN_ORIGIN
    gt = str(m.genotype or "").replace("|", "/").split("/")
    if str(alt_index) in gt or m.haplotypes:
        return GERMLINE
    depth = m.depth
    if m.vaf is not None and m.vaf >= policy.normal_vaf and (depth or 0) >= policy.normal_min_depth:
        return GERMLINE
    if depth is not None and depth >= policy.normal_min_depth:
        return SOMATIC
    return UNKNOWN_ORIGIN


def _set_origin(allele: _Allele, kb: Any, policy: GermlinePolicy) -> None:
    """Origin of one allele (merged alleles: germline only if every component is)."""
    if allele.components:
        origins = {c.origin for c in allele.components}
        allele.origin = origins.pop() if len(origins) == 1 else UNKNOWN_ORIGIN
    else:
        allele.origin = _normal_origin(allele.normal_metrics, allele.alt_index, policy)
    listed = kb.germline_polymorphism(allele.name.protein) if allele.name else None
    if listed is not None:
        allele.flags.append(f"germline_polymorphism:{listed.rsid}")
        # a matched normal with enough reads and no ALT is direct evidence: it outranks the list
        if policy.exclude_listed and allele.origin != SOMATIC:
            allele.origin = GERMLINE


def _verdict_use(allele: _Allele, include_filtered: bool) -> str:
    """'yes', or 'no:<reason>' when this allele must not decide a drug verdict."""
    if allele.merged_into is not None:
        return "no:merged_in_cis"
    if allele.name is None:
        return "no:not_named"
    if "ref_mismatch" in allele.name.flags:
        return "no:ref_mismatch"
    if allele.origin == GERMLINE:
        return "no:germline"
    if not include_filtered and allele.filter not in ("PASS", "."):
        return "no:filtered"
    if not allele.carried:
        return "no:not_in_tumour_genotype"
    return "yes"
