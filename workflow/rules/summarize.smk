# Stage 3: batch tables over every shard, then the end-of-run check that lists failed samples.


rule summarize:
    input:
        manifest=MANIFEST,
        shard_dirs=annotate_dirs,
    output:
        summary="results/batch/summary.tsv",
        drug_matrix="results/batch/drug_matrix.tsv",
        alleles="results/batch/alleles.tsv",
        evidence="results/batch/evidence.tsv",
        verdicts="results/batch/verdicts.tsv",
        structural="results/batch/structural.tsv",
        excel="results/batch/summary.xlsx",
        multiqc="results/batch/erbb2_tki_mqc.tsv",
    log:
        "results/logs/summarize/summarize.log",
    benchmark:
        "results/benchmarks/summarize/summarize.tsv"
    conda:
        "../envs/erbb2_tki.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        out_dir=subpath(output.summary, parent=True),
    shell:
        "python -m erbb2_tki.pipeline summarize --manifest {input.manifest:q}"
        " --out-dir {params.out_dir:q} --log {log:q} {input.shard_dirs:q}"


# With on_error: continue, failed samples do not stop the batch; this last job makes the run
# exit non-zero, listing them, after every summary has been written.
rule check_batch:
    input:
        summary="results/batch/summary.tsv",
    output:
        check="results/batch/check.txt",
    log:
        "results/logs/check_batch/check_batch.log",
    conda:
        "../envs/erbb2_tki.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "python -m erbb2_tki.pipeline check --summary {input.summary:q}"
        " --out {output.check:q} --log {log:q}"
