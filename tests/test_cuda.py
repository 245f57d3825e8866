"""The CUDA path on a real GPU: the dual step against the float64 CPU reference, bf16 autocast and
torch.compile against fp32, a checkpoint written on CUDA resumed on CUDA, GPU slots on real devices.

Marked ``cuda`` (``pytest -m cuda``); skipped, with the reason, where torch sees no GPU.
``benchmarks/gpu_check.sh`` runs them first. Measured distances are written as JSON into
``$DUALGRAD_CUDA_REPORT`` (when set) so that the check's table can show them.
"""

import json
import os
import signal
import subprocess
import sys

import pytest
import torch

from dualgrad.config import RunConfig, Runtime
from dualgrad.optim import SGD
from dualgrad.step import Stepper
from dualgrad.train import train
from notebook_reference import notebook_dual_steps
from test_resume import METRICS, checkpoint_epochs, command, metrics
from test_step_reference import K, LR, STEPS, batches, sgd, small_bn_net

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(),
                       reason=f"needs a CUDA GPU: torch {torch.__version__} (CUDA build "
                              f"{torch.version.cuda}) sees none on this machine"),
]

# Dual step, CUDA fp32 vs CPU float64, after STEPS=24 steps (K=4) of the small BN network:
# - TF32 off: plain fp32 rounding (unit roundoff 6e-8). The same comparison on the CPU gives a
#   largest relative parameter difference of 7e-7; a GPU sums in other orders, so 1e-5 leaves room.
# - torch's defaults: cuDNN convolutions in TF32 (operands rounded to 10 mantissa bits: relative
#   error up to 2^-11 = 4.9e-4 per product), matmuls in fp32. 24 steps of updates built from such
#   gradients: 1e-2 is 20x the per-product error, and 1000x under a real mistake (a wrong sign or
#   a missed refresh moves parameters by O(lr) = 10%).
STEP_TOLERANCE = {"fp32": 1e-5, "tf32_default": 1e-2}

# bf16 autocast / torch.compile vs fp32 over a short run (3 epochs): different rounding makes
# the trajectories part, but a correct path keeps the same learning curve. Largest relative
# difference of the epoch's mean training loss, and difference of the final test error (1024
# test images: binomial sd ~0.016 at 50% error, so 0.08 is ~5 sd).
SHORT_RUN = dict(arch="ResNet18", width=0.25, dataset="synthetic", n_train=4096, n_test=1024, batch_size=128,
                 epochs=3, milestones=[2], lam=0.3, eta=0.4, K=16, seed=0, eval_every=1)
LOSS_REL_TOLERANCE = 0.10
ERROR_ABS_TOLERANCE = 0.08


def report(name: str, data: dict) -> None:
    folder = os.environ.get("DUALGRAD_CUDA_REPORT")
    if folder:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{name}.json"), "w") as fh:
            json.dump(data, fh, indent=2)


@pytest.fixture
def tf32(request):
    """Set cuDNN's and cuBLAS's TF32 flags for one test, then restore them."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def relative_difference(model, reference) -> float:
    return max(((p.detach().double().cpu() - r.detach()).abs().max() / r.detach().abs().max().clamp_min(1e-12)).item()
               for p, r in zip(model.parameters(), reference.parameters()))


@pytest.mark.parametrize("precision", ["fp32", "tf32_default"])
def test_dual_step_on_cuda_matches_float64_cpu_reference(precision, tf32):
    if precision == "fp32":
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    else:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = True, False  # torch's defaults
    lam, data = 0.3, batches()
    reference = small_bn_net()
    ref_logs = notebook_dual_steps(reference, sgd(reference), data, lam, K=K)

    # The engine as Trainer builds it: fp32, channels_last, dualgrad.optim.SGD (fused CUDA kernel).
    model = small_bn_net().float().to("cuda", memory_format=torch.channels_last)
    stepper = Stepper(model, SGD(model.parameters(), lr=LR, momentum=0.9, weight_decay=5e-4), "dual", K=K,
                      log_steps=STEPS)
    for x, noisy, value in data:
        stepper(x.float().cuda().contiguous(memory_format=torch.channels_last), noisy.cuda(), value.cuda(), lam)

    param_diff = relative_difference(model, reference)
    cos_diff = max(abs(c - c_ref) for c, (c_ref, _) in zip(stepper.log.first_cos.tolist(), ref_logs))
    report(f"step_{precision}", {"max_rel_param_diff": param_diff, "max_abs_cos_diff": cos_diff,
                                 "tolerance": STEP_TOLERANCE[precision], "steps": STEPS, "K": K})
    assert param_diff <= STEP_TOLERANCE[precision]
    assert cos_diff <= 10 * STEP_TOLERANCE[precision]


def short_run(tmp_path, name: str, **changes) -> dict:
    cfg = RunConfig.from_dict({**SHORT_RUN, **changes})
    return train(cfg, Runtime(device="cuda", progress=False), tmp_path / f"{name}.json")


def distance(result: dict, baseline: dict) -> dict:
    loss, loss0 = result["dynamics"]["train_loss"], baseline["dynamics"]["train_loss"]
    return {"max_rel_train_loss_diff": max(abs(a - b) / abs(b) for a, b in zip(loss, loss0)),
            "abs_test_error_diff": abs(result["test_error"] - baseline["test_error"]),
            "test_error": result["test_error"], "train_loss": loss,
            "train_images_per_s": result["throughput"]["train_images_per_s"]}


@pytest.fixture(scope="module")
def fp32_short_runs(tmp_path_factory):
    """The fp32 short run and, for scale, the same run with another seed."""
    folder = tmp_path_factory.mktemp("fp32")
    return short_run(folder, "fp32"), short_run(folder, "fp32_seed1", seed=1)


@pytest.mark.parametrize("variant", ["bf16", "compile"])
def test_bf16_and_compile_stay_near_fp32(variant, fp32_short_runs, tmp_path):
    fp32, other_seed = fp32_short_runs
    result = short_run(tmp_path, variant, **{variant: True})
    assert result["status"] == "ok" and result["config"][variant] is True
    d = distance(result, fp32)
    report(f"short_run_{variant}", {**d, "seed_change": distance(other_seed, fp32), "fp32": distance(fp32, fp32),
                                    "loss_tolerance": LOSS_REL_TOLERANCE, "error_tolerance": ERROR_ABS_TOLERANCE,
                                    "run": SHORT_RUN})
    assert d["max_rel_train_loss_diff"] <= LOSS_REL_TOLERANCE
    assert d["abs_test_error_diff"] <= ERROR_ABS_TOLERANCE


# A training process that kills itself (SIGKILL: no clean-up) right after writing the checkpoint
# of epoch 2: on a GPU the epochs are too short to catch from outside.
DIE_AFTER_EPOCH_TWO = """
import os, signal, sys
from dualgrad import cli, io
save = io.torch_save
def save_then_die(path, obj):
    save(path, obj)
    if isinstance(obj, dict) and obj.get("epochs_done") == 2:
        os.kill(os.getpid(), signal.SIGKILL)
io.torch_save = save_then_die
sys.exit(cli.main(sys.argv[1:]))
"""


def cuda_command(out, ckpt):
    # deterministic: cuDNN's deterministic algorithms (and no per-process benchmark choice), so
    # that two CUDA processes can agree exactly; cuBLAS needs its workspace setting for that.
    return [*command(out, ckpt), "--device", "cuda", "--set", "deterministic=true"]


def test_checkpoint_written_on_cuda_resumes_on_cuda_to_the_same_result(tmp_path):
    env = dict(os.environ, CUBLAS_WORKSPACE_CONFIG=":4096:8")
    straight = tmp_path / "straight.json"
    subprocess.run(cuda_command(straight, tmp_path / "straight.ckpt"), check=True, timeout=600, env=env,
                   capture_output=True)

    out, ckpt = tmp_path / "run.json", tmp_path / "run.ckpt"
    killed = subprocess.run([sys.executable, "-c", DIE_AFTER_EPOCH_TWO, *cuda_command(out, ckpt)[3:]], env=env,
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not out.exists() and checkpoint_epochs(ckpt) == 2
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert "cuda" in state["rng"], "the checkpoint was not written by a CUDA run"

    restarted = subprocess.run(cuda_command(out, ckpt), check=True, timeout=600, env=env, capture_output=True,
                               text=True)
    assert "resuming from checkpoint" in restarted.stderr and "after epoch 2" in restarted.stderr
    resumed, result = metrics(out)
    expected, _ = metrics(straight)
    report("resume", {"equal": resumed == expected, "metrics": list(METRICS),
                      "test_error": [result["test_error"], expected["test_error"]]})
    assert result["provenance"]["device"]["type"] == "cuda"
    assert [s["start_epoch"] for s in result["provenance"]["segments"]] == [0, 2]
    assert resumed == expected


# A training process stand-in on a real GPU: take a slot, then let CUDA tell which device it got.
SLOT_CHILD = """
import json, os, sys
from dualgrad.gpu_slots import acquire_gpu_slot
info = acquire_gpu_slot(wait_seconds=30, poll_seconds=0.05)
import torch
x = torch.ones(1, device="cuda")  # initialises CUDA on the slot's device
print(json.dumps({"info": info, "cvd": os.environ.get("CUDA_VISIBLE_DEVICES"), "count": torch.cuda.device_count(),
                  "uuid": str(torch.cuda.get_device_properties(0).uuid)}), flush=True)
sys.stdin.read()  # hold the slot until the test closes stdin
"""


@pytest.mark.parametrize("per_gpu", [1, 2])
def test_gpu_slots_give_each_process_its_own_device(per_gpu, tmp_path):
    gpus = torch.cuda.device_count()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALGRAD_") and k != "CUDA_VISIBLE_DEVICES"}
    env.update(DUALGRAD_GPUS=str(gpus), DUALGRAD_SLOTS_PER_GPU=str(per_gpu),
               DUALGRAD_GPU_LOCK_DIR=str(tmp_path / "locks"))
    children = [subprocess.Popen([sys.executable, "-c", SLOT_CHILD], env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(gpus * per_gpu)]
    try:
        got = [json.loads(child.stdout.readline() or "null") for child in children]  # all hold their slots
    finally:
        errors = [child.communicate(timeout=60)[1] for child in children]  # closes stdin: slots released
    assert None not in got, f"a child exited without reporting its device: {errors}"
    report(f"gpu_slots_{per_gpu}", {"gpus": gpus, "children": got})
    for g in got:
        assert g["count"] == 1 and g["cvd"] == str(g["info"]["device"])  # each process sees its one device
    slots = {(g["info"]["device"], g["info"]["slot"]) for g in got}
    assert slots == {(str(d), s) for d in range(gpus) for s in range(per_gpu)}  # every slot taken once
    by_device = {}
    for g in got:
        by_device.setdefault(g["cvd"], set()).add(g["uuid"])
    assert all(len(uuids) == 1 for uuids in by_device.values())  # one slot's index = one physical GPU
    assert len({next(iter(u)) for u in by_device.values()}) == gpus  # distinct indices = distinct GPUs
