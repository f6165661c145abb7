# Stage 2: name every allele, match the knowledge base, write per-sample outputs (tables,
# annotated VCF and the report page results/reports/{sample}.html), one shard per job.
# Depends on the shard's extraction and on every file in annotations/knowledge and transcripts: a KB change
# re-runs this stage and the summaries only.


rule annotate_shard:
    input:
        extract_dir="results/extract/shard_{shard}",
        annotations=annotation_files,
    output:
        shard_dir=directory("results/annotate/shard_{shard}"),
    log:
        "results/logs/annotate_shard/shard_{shard}.log",
    benchmark:
        "results/benchmarks/annotate_shard/shard_{shard}.tsv"
    conda:
        "../envs/erbb2_tki.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    params:
        digest=annotate_digest,
        config=shard_job_config,
        on_error=on_error_setting,
        annotations=str(ANNOTATIONS),
        include_filtered="--include-filtered" if config["include_filtered"] else "",
        germline=germline_options(),
        annotated_dir="results/annotated",
        tables_dir="results/tables",
        reports_dir="results/reports",
    shell:
        "python -m erbb2_tki.batch.pipeline annotate --config-json {params.config:q}"
        " --shard {wildcards.shard} --extract-dir {input.extract_dir:q}"
        " --out-dir {output.shard_dir:q} --annotations {params.annotations:q}"
        " --annotated-dir {params.annotated_dir:q} --tables-dir {params.tables_dir:q}"
        " --reports-dir {params.reports_dir:q}"
        " {params.include_filtered} {params.germline} --expect-digest {params.digest}"
        " --on-error {params.on_error} --log {log:q}"


# PDFs of one shard's report pages (config report_pdf), printed by headless Chromium: one job per
# shard, so the DAG grows by the number of shards, not samples. The table lists the PDFs written.
rule report_pdf_shard:
    input:
        shard_dir="results/annotate/shard_{shard}",
    output:
        pdfs="results/batch/report_pdf/shard_{shard}.tsv",
    log:
        "results/logs/report_pdf_shard/shard_{shard}.log",
    benchmark:
        "results/benchmarks/report_pdf_shard/shard_{shard}.tsv"
    conda:
        "../envs/erbb2_tki.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    params:
        reports_dir="results/reports",
    shell:
        "python -m erbb2_tki.outputs.patient_report pdf --shard-dir {input.shard_dir:q}"
        " --reports-dir {params.reports_dir:q} --out {output.pdfs:q} --log {log:q}"
