"""The naming engine: NM_004448.4 and NP_004439.2, HGVS normalisation and naming, in-cis merges."""
