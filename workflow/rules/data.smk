# Datasets. Training jobs load (and verify) their data themselves; the first of several
# concurrent jobs downloads or caches it under a lock while the others wait. This rule is an
# optional target for preparing data ahead, e.g. on a cluster's login node when the compute
# nodes have no internet:  snakemake data --config download=true


rule prepare_data:
    output:
        f"{DATA_ROOT}/manifests/{{dataset}}.json",
    log:
        f"{RESULTS}/logs/prepare_data/{{dataset}}.log",
    localrule: True
    conda:
        "../../envs/train.yaml"
    params:
        python=PYTHON,
        root=lambda wc, output: parent(output[0], 2),
        download="--download" if config.get("download") else "",
    shell:
        "{params.python} -m dualgrad prepare-data {wildcards.dataset} --data-root {params.root} "
        "{params.download} --manifest {output} > {log} 2>&1"


rule data:
    input:
        sorted(
            {
                f"{DATA_ROOT}/manifests/{run.config.dataset}.json"
                for run in PLAN.runs.values()
            }
        ),
    localrule: True
