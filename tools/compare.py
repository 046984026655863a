#!/usr/bin/python3
"""clae against PyTorch: validation loss after a few epochs, per preset.

For each preset (default: deep bottleneck10) trains the model with clae
(`build/clae train --arch NAME --epochs E --seed S`) and with the PyTorch
reference (tools/torch_reference.py --arch NAME: the same spec, data,
Glorot-uniform init, Adam 1e-3 / 0.9 / 0.999 / 1e-7, batch 256) for each
seed, one run after the other, and prints a Markdown table of the
validation loss after the last epoch: the mean and range over the seeds of
each, and the verdict:

  clae <= PyTorch       clae's mean is no worse than PyTorch's mean
  within seed spread    clae's mean is above PyTorch's mean, but not above
                        the worst PyTorch seed
  worse                 clae's mean is above every PyTorch seed

The seeds do not pair runs (clae and PyTorch draw from different random
generators); they give each trainer a spread. The table also gives Welch's
t of the difference of the means (|t| below about 2: not distinguishable
from seed noise at these sample sizes). A second table lists every run. Progress goes to stderr, the tables to stdout.

Usage: /usr/bin/python3 tools/compare.py [PRESET ...] [--seeds 0,1,2,3,4]
       [--epochs 5] [--threads 1]
The whole default run takes about 5-10 minutes on 2 cores.
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLAE = os.path.join(ROOT, "build", "clae")
TORCH = os.path.join(ROOT, "tools", "torch_reference.py")


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"compare: {' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def clae_loss(clae, preset, epochs, seed):
    """Validation loss after the last epoch of one clae run."""
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "metrics.csv")
        run([clae, "train", "--arch", preset, "--epochs", str(epochs),
             "--seed", str(seed), "--metrics", metrics])
        with open(metrics) as f:
            rows = list(csv.DictReader(f))
    if len(rows) != epochs:
        sys.exit(f"compare: clae wrote {len(rows)} epochs, expected {epochs}")
    return float(rows[-1]["val_loss"])


def torch_loss(clae, preset, epochs, seed, threads):
    """Validation loss after the last epoch of one PyTorch run."""
    out = run(["/usr/bin/python3", TORCH, "--arch", preset, "--clae", clae,
               "--epochs", str(epochs), "--seed", str(seed),
               "--threads", str(threads)])
    m = re.search(r"^final_val_loss (\S+)$", out, re.M)
    if not m:
        sys.exit(f"compare: no final_val_loss from torch_reference.py:\n{out}")
    return float(m.group(1))


def verdict(clae, torch):
    if statistics.mean(clae) <= statistics.mean(torch):
        return "clae <= PyTorch"
    if statistics.mean(clae) <= max(torch):
        return "within seed spread"
    return "worse"


def welch_t(a, b):
    """Welch's t statistic of mean(a) - mean(b); None with fewer than 2 each."""
    if len(a) < 2 or len(b) < 2:
        return None
    se = (statistics.variance(a) / len(a) + statistics.variance(b) / len(b)) ** 0.5
    diff = statistics.mean(a) - statistics.mean(b)
    return diff / se if se > 0 else float("inf") if diff else 0.0


def spread(values):
    return (f"{statistics.mean(values):.6f} "
            f"({min(values):.6f}-{max(values):.6f})")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("presets", nargs="*", default=["deep", "bottleneck10"],
                   help="dense clae presets (default: deep bottleneck10)")
    p.add_argument("--seeds", default="0,1,2,3,4",
                   help="comma-separated seeds for both trainers (default 0,1,2,3,4)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads of the PyTorch runs (default 1)")
    p.add_argument("--clae", default=CLAE, help="the clae binary (default build/clae)")
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if not seeds:
        p.error("--seeds: at least one seed")
    if not os.access(args.clae, os.X_OK):
        sys.exit(f"compare: {args.clae} missing; build it with make all")

    results = {}  # preset -> {"clae": [...], "pytorch": [...]}
    start = time.perf_counter()
    for preset in args.presets:
        losses = results[preset] = {"clae": [], "pytorch": []}
        for seed in seeds:  # alternate, so drifts of the machine hit both
            t = time.perf_counter()
            losses["clae"].append(clae_loss(args.clae, preset, args.epochs, seed))
            print(f"{preset} seed {seed}: clae {losses['clae'][-1]:.6f} "
                  f"({time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
            t = time.perf_counter()
            losses["pytorch"].append(torch_loss(args.clae, preset, args.epochs,
                                                seed, args.threads))
            print(f"{preset} seed {seed}: pytorch {losses['pytorch'][-1]:.6f} "
                  f"({time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
    minutes = (time.perf_counter() - start) / 60

    import torch
    print(f"Validation loss (the preset's loss, mean per element; Fashion-MNIST t10k) after "
          f"{args.epochs} epochs; seeds {', '.join(map(str, seeds))} for each "
          f"trainer; PyTorch {torch.__version__}, {args.threads} thread(s). "
          f"Mean (range) over the seeds.\n")
    print("| preset | clae | PyTorch | clae - PyTorch (means) | Welch t | verdict |")
    print("|---|---|---|---|---|---|")
    for preset, losses in results.items():
        diff = statistics.mean(losses["clae"]) - statistics.mean(losses["pytorch"])
        t = welch_t(losses["clae"], losses["pytorch"])
        print(f"| {preset} | {spread(losses['clae'])} | "
              f"{spread(losses['pytorch'])} | {diff:+.6f} | "
              f"{'n/a' if t is None else f'{t:+.2f}'} | "
              f"{verdict(losses['clae'], losses['pytorch'])} |")
    print("\n| preset | trainer | " + " | ".join(f"seed {s}" for s in seeds) + " |")
    print("|---|---|" + "---|" * len(seeds))
    for preset, losses in results.items():
        for name, values in (("clae", losses["clae"]), ("PyTorch", losses["pytorch"])):
            print(f"| {preset} | {name} | " +
                  " | ".join(f"{v:.6f}" for v in values) + " |")
    print(f"\n({len(args.presets) * len(seeds) * 2} runs, {minutes:.1f} minutes.)")


if __name__ == "__main__":
    main()
