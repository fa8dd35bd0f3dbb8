"""The architecture comparison: both architectures × ImageNet init or none × masked or raw input.

Each configuration trains with the same recipe and seed (concurrently, one process each) and is
scored on the validation blocks only: plain accuracy, accuracy with the scale-bar corner
blanked, and mean accuracy under three camera/stain shifts. The selection score is the mean of
those three, so a model that leans on the scale bar or on colour loses. The test blocks are not
touched here. With ``repeat_seeds`` the chosen configuration is trained again with other seeds
to show the run-to-run spread.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from allscope.training.augment import blank_corner, camera_shift
from allscope.training.data import CLASSES, FieldStore, read_split

GRID = [(arch, pretrained, masked) for arch in ("mobilenetv2", "efficientnet-lite0")
        for pretrained in (True, False) for masked in (False, True)]
SELECTION_RULE = (
    "mean of validation-block accuracy plain, with the scale-bar corner blanked, and under "
    "three camera/stain shifts (averaged)"
)


def run_name(arch: str, pretrained: bool, masked: bool, seed: int = 0) -> str:
    name = f"{arch}-{'imagenet' if pretrained else 'scratch'}-{'masked' if masked else 'raw'}"
    return name if seed == 0 else f"{name}-seed{seed}"


def _command(
    data: str, out: Path, arch: str, pretrained: bool, masked: bool, seed: int, extra: list[str]
) -> list[str]:
    cmd = [
        sys.executable, "-m", "allscope.training.cli", "--data", data, "--out", str(out), "--arch",
        arch, "--seed", str(seed), *extra,
    ]
    return (
        cmd
        + (["--no-pretrained"] if not pretrained else [])
        + (["--masked-input"] if masked else [])
    )


def train_all(
    data: str, out: Path, runs: list[tuple[str, bool, bool, int]], extra: list[str]
) -> dict[str, int]:
    """Train every run concurrently; returns each run's exit status (logs in
    ``out/NAME/train.log``)."""
    procs = {}
    for arch, pretrained, masked, seed in runs:
        name = run_name(arch, pretrained, masked, seed)
        (out / name).mkdir(parents=True, exist_ok=True)
        log = open(out / name / "train.log", "w")  # noqa: SIM115 - open while the run lasts
        procs[name] = (
            subprocess.Popen(
                _command(data, out / name, arch, pretrained, masked, seed, extra), stdout=log,
                stderr=subprocess.STDOUT,
            ),
            log,
        )
    status = {}
    for name, (proc, log) in procs.items():
        status[name] = proc.wait()
        log.close()
    return status


def val_scores(checkpoint: Path, store: FieldStore, device: str) -> dict:
    """Validation-block accuracies (plain, corner blanked, camera shifts) of one checkpoint."""
    from allscope.training.evaluate import prepare, torch_scorer

    score, config = torch_scorer(checkpoint, device)
    split = read_split(checkpoint.parent / "split.json")["val"]
    fields = store.read_many(split)
    labels = np.array([s.label for s in split])
    masked = bool(config["masked"])

    def accuracy(perturb) -> float:
        logits = score(np.stack([prepare(perturb(f), masked) for f in fields]))
        return float((logits.argmax(1) == labels).mean())

    result = {
        "val_plain": accuracy(lambda f: f),
        "val_corner_blanked": accuracy(blank_corner),
        "val_camera_shift": float(
            np.mean([accuracy(lambda f, v=v: camera_shift(f, v)) for v in range(3)])
        ),
    }
    result["score"] = float(np.mean(list(result.values())))
    result["benign_val_fields"] = int((labels == CLASSES.index("Benign")).sum())
    return result


def run_grid(data: str, out: str | Path, device: str = "cpu", extra: list[str] | None = None,
             repeat_seeds: tuple[int, ...] = (), log=print) -> dict:
    """Train and score the whole grid (plus seed repeats of the winner); writes
    ``comparison.json``."""
    out = Path(out)
    extra = list(extra or []) + ["--device", device]
    store = FieldStore(data)
    started = time.perf_counter()
    status = train_all(data, out, [(a, p, m, 0) for a, p, m in GRID], extra)
    log(f"grid trained in {time.perf_counter() - started:.0f} s: {status}")
    runs = {}
    for arch, pretrained, masked in GRID:
        name = run_name(arch, pretrained, masked)
        runs[name] = _summarise(
            out / name, status[name], store, device, arch, pretrained, masked, 0
        )
        log(f"{name}: {runs[name].get('val')}")
    chosen = max((n for n in runs if "val" in runs[n]), key=lambda n: runs[n]["val"]["score"])
    arch, pretrained, masked = next(c for c in GRID if run_name(*c) == chosen)
    if repeat_seeds:
        status = train_all(data, out, [(arch, pretrained, masked, s) for s in repeat_seeds], extra)
        for seed in repeat_seeds:
            name = run_name(arch, pretrained, masked, seed)
            runs[name] = _summarise(
                out / name, status[name], store, device, arch, pretrained, masked, seed
            )
            log(f"{name}: {runs[name].get('val')}")
    result = {"selection_rule": SELECTION_RULE, "chosen": chosen, "runs": runs, "extra_args": extra,
              "seconds": time.perf_counter() - started}
    (out / "comparison.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def _summarise(run: Path, status: int, store: FieldStore, device: str, arch: str, pretrained: bool,
               masked: bool, seed: int) -> dict:
    summary = {
        "arch": arch,
        "pretrained": pretrained,
        "masked": masked,
        "seed": seed,
        "exit_status": status,
    }
    if status != 0 or not (run / "checkpoint.pt").is_file():
        summary["log_tail"] = (run / "train.log").read_text(errors="replace")[-2000:]
        return summary
    summary["history"] = json.loads((run / "history.json").read_text())
    summary["val"] = val_scores(run / "checkpoint.pt", store, device)
    return summary


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(
        prog="allscope train grid", description="Train and compare the grid on val."
    )
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeat-seeds", type=int, nargs="*", default=[])
    args, extra = p.parse_known_args(argv)
    result = run_grid(args.data, args.out, args.device, extra, tuple(args.repeat_seeds))
    print(f"chosen: {result['chosen']} ({result['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def pack_checkpoints(
    grid_dir: str | Path, out_dir: str | Path, limit_bytes: int = 15 << 20
) -> list[Path]:
    """Bundle every run's checkpoint (weights in fp16) and split into as few files as fit the limit.

    Each file ``checkpoints_N.pt`` maps run name → checkpoint dict with an added ``split_json``.
    """
    import io

    import torch

    bundles: list[Any] = []
    current: dict[str, Any] = {}
    size = 0
    for ckpt_path in sorted(Path(grid_dir).glob("*/checkpoint.pt")):
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        ckpt["state_dict"] = {
            k: v.half() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()
        }
        ckpt["split_json"] = (ckpt_path.parent / "split.json").read_text()
        buffer = io.BytesIO()
        torch.save(ckpt, buffer)
        if current and size + buffer.tell() > limit_bytes:
            bundles.append(current)
            current, size = {}, 0
        current[ckpt_path.parent.name] = ckpt
        size += buffer.tell()
    if current:
        bundles.append(current)
    paths = []
    for i, bundle in enumerate(bundles):
        paths.append(Path(out_dir) / f"checkpoints_{i}.pt")
        torch.save(bundle, paths[-1])
    return paths


def unpack_checkpoints(files: list[str | Path], out_dir: str | Path) -> list[Path]:
    """Inverse of ``pack_checkpoints``: ``out_dir/NAME/checkpoint.pt`` and ``split.json`` per
    run."""
    import torch

    written = []
    for file in files:
        for name, ckpt in torch.load(file, map_location="cpu", weights_only=True).items():
            run = Path(out_dir) / name
            run.mkdir(parents=True, exist_ok=True)
            (run / "split.json").write_text(ckpt.pop("split_json"))
            torch.save(ckpt, run / "checkpoint.pt")
            written.append(run / "checkpoint.pt")
    return written
