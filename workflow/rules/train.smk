# One training job per distinct run. The resolved run config and the algorithm version are
# params: changing a run's settings reruns exactly that run; code edits that keep the maths
# (same ALGORITHM_VERSION) rerun nothing.

from dualgrad.result_files import set_aside_damaged

# A damaged run JSON (torn copy, bad edit) is renamed to *.damaged, so that its job runs again.
if workflow.is_main_process:
    set_aside_damaged(
        [f"{RESULTS}/{p}.json" for p in PLAN.runs], dry_run=workflow.dryrun
    )


rule train:
    output:
        f"{RESULTS}/runs/{{run}}.json",
    log:
        f"{RESULTS}/logs/runs/{{run}}.log",
    conda:
        "../../envs/train.yaml"
    threads: TRAIN_THREADS
    resources:
        gpu=GPUS_PER_JOB,
        runtime=lambda wc, attempt: train_runtime(f"runs/{wc.run}", attempt),
        mem_mb=lambda wc, attempt: train_mem_mb(attempt),
    params:
        python=PYTHON,
        config=lambda wc: run_config_json(f"runs/{wc.run}"),
        checkpoint=lambda wc: checkpoint_path(f"runs/{wc.run}"),
        algorithm=ALGORITHM_VERSION,
    shell:
        "{params.python} -m dualgrad train --config-json {params.config:q} --output {output} "
        "--checkpoint {params.checkpoint} --threads {threads} --algorithm-version {params.algorithm} 2> {log}"
