#!/usr/bin/python3
"""make bench-mpi: what training across MPI ranks gains on this machine.

    tools/bench-mpi.py [--rounds N] [--presets reference,conv]

Trains each preset on Fashion-MNIST (batch 256) in three ways, one after
the other, on PoCL:
  - 1 process with 1 PoCL thread (POCL_MAX_PTHREAD_COUNT=1): the fair
    baseline for a rank, which gets one thread;
  - 1 process with PoCL's threads (one per core);
  - mpirun -np 2, each rank with 1 PoCL thread;
and prints each one's epoch time (the median over rounds of the last
epoch's `seconds`), samples/s, the speed-up over the 1-thread process,
the last validation loss, and for the ranks the time rank 0 spent in the
gradient and loss sums (clae's `allreduce:` line; it includes waiting for
the other rank). Also the parameter count of each preset (clae info),
which the README's estimate for more ranks uses, and the load average
before and after: the ranks want a core each, so anything else running
slows one of them and the other waits for it in the sums.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLAE = os.path.join(ROOT, "build", "clae")
SAMPLES = 60000
BATCH = 256
# Each preset's flags, epochs and rounds (None: --rounds): the reference
# job runs 2 epochs a round; conv (about 40 s an epoch here) one, once.
JOBS = {"reference": ([], 2, None),
        "conv": (["--arch", "conv"], 1, 1)}


def mpirun(ranks):
    command = ["mpirun", "-np", str(ranks), "--oversubscribe",
               "-x", "POCL_MAX_PTHREAD_COUNT=1"]
    return command + (["--allow-run-as-root"] if os.geteuid() == 0 else [])


WAYS = [("1 process, 1 PoCL thread", [], {"POCL_MAX_PTHREAD_COUNT": "1"}),
        ("1 process, %d PoCL threads" % (os.cpu_count() or 1), [], {}),
        ("2 ranks, 1 PoCL thread each", mpirun(2), {})]


def train(prefix, env, flags, scratch):
    metrics = os.path.join(scratch, "metrics.csv")
    save = os.path.join(scratch, "model.safetensors")
    p = subprocess.run(prefix + [CLAE, "train", "--batch-size", str(BATCH),
                                 "--metrics", metrics, "--save", save] + flags,
                       capture_output=True, text=True,
                       env=dict(os.environ, **env))
    if p.returncode != 0:
        sys.exit("bench-mpi: %s failed (exit %d):\n%s%s"
                 % (" ".join(prefix + flags), p.returncode, p.stdout, p.stderr))
    last = open(metrics).read().splitlines()[-1].split(",")
    sums = re.search(r"allreduce: (\d+) sums took ([\d.]+) s", p.stdout)
    return {"seconds": float(last[3]), "val_loss": last[2],
            "sums": (int(sums[1]), float(sums[2])) if sums else None,
            "model": save}


def param_count(model):
    out = subprocess.run([CLAE, "info", "--load", model], capture_output=True,
                         text=True, check=True).stdout
    return int(re.search(r"total (\d+) parameters", out)[1])


def bench(preset, rounds, scratch):
    flags, epochs, preset_rounds = JOBS[preset]
    flags = flags + ["--epochs", str(epochs)]
    rounds = preset_rounds or rounds
    steps = -(-SAMPLES // BATCH)
    runs = {name: [] for name, _, _ in WAYS}
    for _ in range(rounds):
        for name, prefix, env in WAYS:
            runs[name].append(train(prefix, env, flags, scratch))
    params = param_count(runs[WAYS[0][0]][0]["model"])
    print("%s: %d parameters (%d bytes of gradient), %d steps of %d an "
          "epoch; median of %d round%s, last epoch"
          % (preset, params, 4 * params, steps, BATCH, rounds,
             "" if rounds == 1 else "s"))
    base = None
    for name, _, _ in WAYS:
        seconds = statistics.median(r["seconds"] for r in runs[name])
        base = base or seconds
        line = ("  %-30s %7.3f s  %7.0f samples/s  %.2fx  %5.2f ms a step  "
                "val_loss %s" % (name, seconds, SAMPLES / seconds,
                                 base / seconds, 1000 * seconds / steps,
                                 runs[name][-1]["val_loss"]))
        sums = [r["sums"][1] for r in runs[name] if r["sums"]]
        if sums:
            spent = statistics.median(sums)
            line += ("\n  %-30s in the sums on rank 0: %.3f s a run, "
                     "%.2f ms a step" % ("", spent,
                                         1000 * spent / (epochs * steps)))
        print(line, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--presets", default="reference,conv")
    args = ap.parse_args()
    print("load average before: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        for preset in args.presets.split(","):
            bench(preset, args.rounds, scratch)
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
