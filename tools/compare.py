#!/usr/bin/python3
"""clae against PyTorch: validation loss after a few epochs, per preset.

For each preset (default: deep bottleneck10) trains the model with clae
(`build/clae train --arch NAME --epochs E --seed S`) and with the PyTorch
reference (tools/torch_reference.py --arch NAME: the same spec, data,
Glorot-uniform init, Adam 1e-3 / 0.9 / 0.999 / 1e-7, batch 256) for each
seed, one run after the other, and prints a Markdown table of the loss
after the last epoch, validation (on t10k) and train (the mean over the
last epoch's batches, which moves less from one run to the next than a
snapshot of the weights does): the mean, median and range over the seeds
of each trainer, Welch's t of the difference of the means, and the verdict:

  clae <= PyTorch             clae's mean is no worse than PyTorch's mean
  no significant difference   clae's mean is higher, but by less than two
                              standard errors of the difference (t < 2)
  worse                       clae's mean is higher by t >= 2

The seeds do not pair runs (clae and PyTorch draw from different random
generators); they give each trainer a spread. A second table lists every
run's validation loss. Progress goes to stderr, the tables to stdout.

Usage: /usr/bin/python3 tools/compare.py [PRESET ...] [--seeds 0,1,...,9]
       [--epochs 5] [--threads 1]
The whole default run (40 runs) takes about 15 minutes on 2 cores.
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
    """(validation loss after the last epoch, the last epoch's train loss)
    of one clae run."""
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "metrics.csv")
        run([clae, "train", "--arch", preset, "--epochs", str(epochs),
             "--seed", str(seed), "--metrics", metrics])
        with open(metrics) as f:
            rows = list(csv.DictReader(f))
    if len(rows) != epochs:
        sys.exit(f"compare: clae wrote {len(rows)} epochs, expected {epochs}")
    return float(rows[-1]["val_loss"]), float(rows[-1]["train_loss"])


def torch_loss(clae, preset, epochs, seed, threads):
    """(validation loss after the last epoch, the last epoch's train loss)
    of one PyTorch run."""
    out = run(["/usr/bin/python3", TORCH, "--arch", preset, "--clae", clae,
               "--epochs", str(epochs), "--seed", str(seed),
               "--threads", str(threads)])
    epochs_seen = re.findall(r"^epoch \d+  train_loss (\S+)  val_loss (\S+)", out, re.M)
    if len(epochs_seen) != epochs:
        sys.exit(f"compare: torch_reference.py printed {len(epochs_seen)} "
                 f"epochs, expected {epochs}:\n{out}")
    train, val = epochs_seen[-1]
    return float(val), float(train)


def welch_t(a, b):
    """Welch's t statistic of mean(a) - mean(b); None with fewer than 2 each."""
    if len(a) < 2 or len(b) < 2:
        return None
    se = (statistics.variance(a) / len(a) + statistics.variance(b) / len(b)) ** 0.5
    diff = statistics.mean(a) - statistics.mean(b)
    return diff / se if se > 0 else float("inf") if diff else 0.0


def verdict(clae, torch):
    if statistics.mean(clae) <= statistics.mean(torch):
        return "clae <= PyTorch"
    t = welch_t(clae, torch)
    if t is not None and t < 2:
        return "no significant difference"
    return "worse"


def spread(values):
    return (f"{statistics.mean(values):.6f} / {statistics.median(values):.6f} "
            f"({min(values):.6f}-{max(values):.6f})")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("presets", nargs="*", default=["deep", "bottleneck10"],
                   help="dense clae presets (default: deep bottleneck10)")
    p.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9",
                   help="comma-separated seeds for both trainers (default 0-9)")
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
        runs = results[preset] = {"clae": [], "PyTorch": []}
        for seed in seeds:  # alternate, so drifts of the machine hit both
            for name, train in (("clae", clae_loss), ("PyTorch", torch_loss)):
                t = time.perf_counter()
                if name == "clae":
                    runs[name].append(train(args.clae, preset, args.epochs, seed))
                else:
                    runs[name].append(train(args.clae, preset, args.epochs,
                                            seed, args.threads))
                print(f"{preset} seed {seed}: {name} val {runs[name][-1][0]:.6f} "
                      f"train {runs[name][-1][1]:.6f} "
                      f"({time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
    minutes = (time.perf_counter() - start) / 60

    import torch
    print(f"Fashion-MNIST, {args.epochs} epochs; seeds {', '.join(map(str, seeds))} "
          f"for each trainer; PyTorch {torch.__version__}, {args.threads} "
          f"thread(s). Loss: the preset's, as clae reports it (mean per "
          f"element; a VAE's per sample). val: on t10k "
          f"after the last epoch; train: the mean over the last epoch's "
          f"batches (less noisy). Mean / median (range) over the seeds.\n")
    print("| preset | loss | clae | PyTorch | clae - PyTorch (means) | Welch t | verdict |")
    print("|---|---|---|---|---|---|---|")
    for preset, runs in results.items():
        for column, label in ((0, "val"), (1, "train")):
            ours = [r[column] for r in runs["clae"]]
            theirs = [r[column] for r in runs["PyTorch"]]
            t = welch_t(ours, theirs)
            print(f"| {preset} | {label} | {spread(ours)} | {spread(theirs)} | "
                  f"{statistics.mean(ours) - statistics.mean(theirs):+.6f} | "
                  f"{'n/a' if t is None else f'{t:+.2f}'} | "
                  f"{verdict(ours, theirs)} |")
    print("\n| preset | trainer | " + " | ".join(f"seed {s}" for s in seeds) + " |")
    print("|---|---|" + "---|" * len(seeds))
    for preset, runs in results.items():
        for name, values in runs.items():
            print(f"| {preset} | {name} val | " +
                  " | ".join(f"{v:.6f}" for v, _ in values) + " |")
    print(f"\n({len(args.presets) * len(seeds) * 2} runs, {minutes:.1f} minutes.)")

if __name__ == "__main__":
    main()
