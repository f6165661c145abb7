"""erbb2-tki: name somatic ERBB2 alleles on NM_004448.4 and report their TKI evidence."""

__version__ = "0.1.0"

TRANSCRIPT = "NM_004448.4"
PROTEIN = "NP_004439.2"


def single_threaded_blas() -> None:
    """Keep numpy's OpenBLAS to one thread in erbb2-tki's own processes (a value already set wins).

    Nothing here does linear algebra, but numpy (which cyvcf2, the VCF reader, is built against)
    starts an OpenBLAS thread per core when it is imported, and those threads cost CPU at every
    start (about a tenth of numpy's import on 2 cores). Called by the command line and the
    workflow's jobs before anything imports numpy; never on import, so a program that imports
    erbb2_tki as a library keeps its own BLAS settings.
    """
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
