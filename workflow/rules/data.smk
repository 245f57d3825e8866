# Datasets: verified (and, where allowed, downloaded) once, before any training job uses them.


rule prepare_data:
    output:
        f"{DATA_ROOT}/manifests/{{dataset}}.json",
    log:
        f"{RESULTS}/logs/prepare_data/{{dataset}}.log",
    conda:
        "../../envs/train.yaml"
    params:
        python=PYTHON,
        root=lambda wc, output: parent(output[0], 2),
        download="--download" if config.get("download") else "",
    shell:
        "{params.python} -m dualgrad prepare-data {wildcards.dataset} --data-root {params.root} "
        "{params.download} --manifest {output} > {log} 2>&1"
