"""Reading any caller's VCF, cut the way vcfpy cuts it.

- bgzf: what a file is (BGZF, gzip, plain), whether it is complete, its bytes block by block;
- header: the header through #CHROM, checked without htslib (VcfHead);
- reader: open_vcf, htslib (cyvcf2) after those checks;
- builds: the genome build from ##contig lengths and ##reference lines;
- samples: which column is the tumour and which the normal;
- metrics: VAF, depth and genotype per ALT in each caller's own fields;
- events: allele kinds and structural events (DUP, DEL, breakends, copy number);
- span: a record's reference span by tabix's rule (which records are in a region);
- bisection: the region's records of a sorted, unindexed BGZF file by bisecting its blocks;
- writer: the annotated VCF (the source records plus ERBB2_* INFO keys).

Cores receive VCFs from every caller and every year, and the peers of this tool break on them in
documented ways (a '*' allele, Manta breakends, VAF only in a caller-specific field). This package
is the one place that knows those dialects. It never guesses: when the header does not say which
build or which column is the tumour, the user is told what is missing and what to pass instead.
Everything a user can get wrong is raised as InputError naming the file and the fix.
"""
