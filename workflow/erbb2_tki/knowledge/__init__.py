"""The ERBB2 x drug knowledge base in annotations/knowledge/: load, validate, match alleles.

- files: the knowledge base's files, which of them the content hash covers, their schemas;
- matching: the records (Drug, AlleleClass, EvidenceRow, Levels, VerdictRules...) and
  KnowledgeBase, which matches an allele to its evidence (exact allele > codon > class);
- loading: load_knowledge, every table validated against its JSON Schema and cross-checked, kept
  in memory and in the on-disk cache;
- hashes: the release hashes in metadata.yaml (`erbb2-tki kb hash`).

Every table has a JSON Schema (workflow/schemas/kb_*.schema.yaml); cross-references are checked
in loading. metadata.yaml records a sha256 of every data file and a content hash over them: an
edited file fails the load until a new version is cut (`erbb2-tki kb hash --write`), so a rerun can
never change an answer silently. This package's namespace is its public interface:
`knowledge.load_knowledge(...)`, `knowledge.KnowledgeBase`, `knowledge.EVIDENCE_FILE`...
"""

from __future__ import annotations

from ..diskcache import CACHE_ENV
from .files import (
    CLASSES_FILE,
    DATA_FILES,
    DRUGS_FILE,
    EVIDENCE_FILE,
    GERMLINE_FILE,
    HASH_FIX,
    HASH_MARKER,
    KNOWLEDGE_SUBDIR,
    LEVELS_FILE,
    METADATA_FILE,
    ONCOTREE_FILE,
    OPTIONAL_FILES,
    RULES_FILE,
    SCHEMAS,
)
from .hashes import (
    combine_hashes,
    compute_hashes,
    file_sha256,
    write_hashes,
)
from .loading import (
    knowledge_dir,
    load_knowledge,
)
from .matching import (
    ALL_CONTEXTS,
    BASIS_ORDER,
    CODON_KINDS,
    ONCOGENIC_CLASS,
    REQUIRED_CLASSES,
    SECONDARY_CITATION_PREFIX,
    TKI_KINDS,
    TRUNCATING_CLASS,
    AlleleClass,
    Drug,
    EvidenceMatch,
    EvidenceRow,
    GermlinePolymorphism,
    KnowledgeBase,
    Levels,
    VerdictRules,
    allele_key,
    amp_tier,
    touched,
)

__all__ = [
    "ALL_CONTEXTS",
    "BASIS_ORDER",
    "CACHE_ENV",
    "CLASSES_FILE",
    "CODON_KINDS",
    "DATA_FILES",
    "DRUGS_FILE",
    "EVIDENCE_FILE",
    "GERMLINE_FILE",
    "HASH_FIX",
    "HASH_MARKER",
    "KNOWLEDGE_SUBDIR",
    "LEVELS_FILE",
    "METADATA_FILE",
    "ONCOGENIC_CLASS",
    "ONCOTREE_FILE",
    "OPTIONAL_FILES",
    "REQUIRED_CLASSES",
    "RULES_FILE",
    "SCHEMAS",
    "SECONDARY_CITATION_PREFIX",
    "TKI_KINDS",
    "TRUNCATING_CLASS",
    "AlleleClass",
    "Drug",
    "EvidenceMatch",
    "EvidenceRow",
    "GermlinePolymorphism",
    "KnowledgeBase",
    "Levels",
    "VerdictRules",
    "allele_key",
    "amp_tier",
    "combine_hashes",
    "compute_hashes",
    "file_sha256",
    "knowledge_dir",
    "load_knowledge",
    "touched",
    "write_hashes",
]
