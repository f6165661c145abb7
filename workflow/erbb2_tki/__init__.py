"""erbb2-tki: name somatic ERBB2 alleles on NM_004448.4 and report their TKI evidence."""

__version__ = "0.1.0"

TRANSCRIPT = "NM_004448.4"
PROTEIN = "NP_004439.2"
