# Hysteresis (V3): start runs (saved model, acceptance threshold) and λ sweeps from them, as
# separate jobs so each is cached and resumable. A sweep whose start missed its threshold writes
# a 'skipped' result instead of failing the DAG.


rule hysteresis_start:
    output:
        result=f"{RESULTS}/hysteresis/{{run}}/start~{{start}}.json",
        model=f"{RESULTS}/hysteresis/{{run}}/start~{{start}}.model.pt",
    log:
        f"{RESULTS}/logs/hysteresis/{{run}}/start~{{start}}.log",
    conda:
        "../../envs/train.yaml"
    threads: TRAIN_THREADS
    resources:
        gpu=GPUS_PER_JOB,
        runtime=lambda wc, attempt: train_runtime(
            f"hysteresis/{wc.run}/start~{wc.start}", attempt
        ),
        mem_mb=lambda wc, attempt: train_mem_mb(attempt),
    params:
        python=PYTHON,
        config=lambda wc: run_config_json(f"hysteresis/{wc.run}/start~{wc.start}"),
        checkpoint=lambda wc: checkpoint_path(f"hysteresis/{wc.run}/start~{wc.start}"),
        algorithm=ALGORITHM_VERSION,
    shell:
        "{params.python} -m dualgrad train --config-json {params.config:q} --output {output.result} "
        "--save-model {output.model} --checkpoint {params.checkpoint} --threads {threads} "
        "--algorithm-version {params.algorithm} 2> {log}"


rule hysteresis_sweep:
    input:
        model=lambda wc: f"{RESULTS}/{sweep_run(wc).start}.model.pt",
        starts=lambda wc: [f"{RESULTS}/{p}.json" for p in sweep_run(wc).requires],
    output:
        f"{RESULTS}/hysteresis/{{run}}/sweep~{{sweep}}.json",
    log:
        f"{RESULTS}/logs/hysteresis/{{run}}/sweep~{{sweep}}.log",
    conda:
        "../../envs/train.yaml"
    threads: TRAIN_THREADS
    resources:
        gpu=GPUS_PER_JOB,
        runtime=lambda wc, attempt: train_runtime(
            f"hysteresis/{wc.run}/sweep~{wc.sweep}", attempt
        ),
        mem_mb=lambda wc, attempt: train_mem_mb(attempt),
    params:
        python=PYTHON,
        config=lambda wc: run_config_json(f"hysteresis/{wc.run}/sweep~{wc.sweep}"),
        checkpoint=lambda wc: checkpoint_path(f"hysteresis/{wc.run}/sweep~{wc.sweep}"),
        required=lambda wc, input: " ".join(
            f"--require-accepted {s}" for s in input.starts
        ),
        algorithm=ALGORITHM_VERSION,
    shell:
        "{params.python} -m dualgrad sweep --config-json {params.config:q} --output {output} "
        "--start-model {input.model} {params.required} --checkpoint {params.checkpoint} "
        "--threads {threads} --algorithm-version {params.algorithm} 2> {log}"
