"""One progress line per epoch on stderr: epoch, loss, test error, images/s, ETA."""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class EpochProgress:
    def __init__(self, name: str, epochs: int, enabled: bool = True, stream=None):
        self.name, self.epochs, self.enabled = name, epochs, enabled
        self.stream = stream or sys.stderr
        self.epoch_seconds: list[float] = []
        self.started = time.perf_counter()

    def update(self, epoch: int, loss: float, test_error: float, images_per_s: float, seconds: float) -> None:
        self.epoch_seconds.append(seconds)
        recent = self.epoch_seconds[-5:]  # recent epochs predict the rest better than the first
        eta = sum(recent) / len(recent) * (self.epochs - epoch)
        if self.enabled:
            print(f"[{self.name}] epoch {epoch:>3}/{self.epochs}  loss {loss:.4f}  test_err {test_error:.4f}  "
                  f"{images_per_s:,.0f} img/s  elapsed {_clock(time.perf_counter() - self.started)}  "
                  f"ETA {_clock(eta)}", file=self.stream, flush=True)


def run_label(cfg) -> str:
    """A run's short name for progress lines, the same in every experiment:
    'ResNet18 dual λ=0.35 η=0.4 s0' (a sweep: 'λ 0.3→0.7'; value labels and K where not the default)."""
    parts = [cfg.arch, cfg.method]
    if cfg.method != "ce":
        if cfg.value_source != "clean":
            parts.append(cfg.value_source)
        if cfg.method == "dual" and (cfg.K != 16 or cfg.renorm):
            parts.append(f"K={cfg.K}" + (" renorm" if cfg.renorm else ""))
        schedule = cfg.lam_schedule
        parts.append(f"λ {schedule[0]:g}→{schedule[-1]:g}" if schedule else f"λ={cfg.lam:g}")
    parts += [f"η={cfg.eta:g}", f"s{cfg.seed}"]
    return " ".join(parts)
