"""The knowledge base's files: their names, which the content hash covers, and their schemas."""

from __future__ import annotations

KNOWLEDGE_SUBDIR = "knowledge"


EVIDENCE_FILE = "evidence.tsv"


CLASSES_FILE = "classes.tsv"


DRUGS_FILE = "drugs.tsv"


ONCOTREE_FILE = "oncotree.tsv"


LEVELS_FILE = "levels.yaml"


RULES_FILE = "verdict_rules.yaml"


GERMLINE_FILE = "germline.tsv"


METADATA_FILE = "metadata.yaml"


# The files whose content the content hash covers (metadata.yaml itself is not hashed).
DATA_FILES = (
    CLASSES_FILE,
    DRUGS_FILE,
    EVIDENCE_FILE,
    GERMLINE_FILE,
    LEVELS_FILE,
    ONCOTREE_FILE,
    RULES_FILE,
)


# Data files added after version 1.0.0: a knowledge base without one (and whose metadata.yaml records
# no hash for it) is an older version and loads without it, so `kb diff 1.0.0 2.0.0` works.
OPTIONAL_FILES = (GERMLINE_FILE,)


SCHEMAS = {
    EVIDENCE_FILE: "kb_evidence.schema.yaml",
    CLASSES_FILE: "kb_classes.schema.yaml",
    DRUGS_FILE: "kb_drugs.schema.yaml",
    ONCOTREE_FILE: "kb_oncotree.schema.yaml",
    LEVELS_FILE: "kb_levels.schema.yaml",
    RULES_FILE: "kb_verdict_rules.schema.yaml",
    GERMLINE_FILE: "kb_germline.schema.yaml",
    METADATA_FILE: "kb_metadata.schema.yaml",
}


HASH_MARKER = (
    "# --- written by `erbb2-tki kb hash --write`; do not edit below this line by hand ---"
)


HASH_FIX = (
    "undo the edit, or cut a new version: bump version and release_date (and add a changes entry) "
    "in metadata.yaml, then run `erbb2-tki kb hash --write DIR`"
)
