# One tidy table of every run of every experiment (results/runs.parquet and .csv): experiment
# labels, settings (config.*), metrics and provenance, one row per run and experiment.


rule runs_table:
    input:
        plans=[f"{RESULTS}/{name}/tables/plan.json" for name in PLAN.experiments],
        runs=all_run_results(),
        code=package_files("runs_table.py"),
    output:
        parquet=f"{RESULTS}/runs.parquet",
        csv=f"{RESULTS}/runs.csv",
    log:
        f"{RESULTS}/logs/runs_table.log",
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    params:
        python=PYTHON,
        results=lambda wc, input: parent(input.plans[0], 3),
    shell:
        "{params.python} -m dualgrad.runs_table --results {params.results} --plans {input.plans} "
        "--parquet {output.parquet} --csv {output.csv} 2> {log}"
