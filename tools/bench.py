#!/usr/bin/python3
"""make bench: clae against PyTorch on the same machine, side by side.

1. Epoch time of the reference job (784-128-784, BCE, Adam, batch 256,
   Fashion-MNIST 60k): clae (with the data resident on the device, and
   streamed through a 64 MiB budget) and PyTorch (tools/torch_reference.py,
   the same model, init, optimizer and data) run in turns, ROUNDS times;
   each run trains EPOCHS epochs and its first epoch is dropped as warm-up. PyTorch
   runs in the configurations that are fastest on a CPU (one torch thread,
   OpenBLAS with one thread or with every core, OpenBLAS free to pick its
   kernels); the ratio is taken against the fastest of them.
2. Peak resident memory (RSS) of each process, and clae's device memory.
3. Epoch time of the larger presets (default: deep, 784-256-64-256-784):
   clae (clae train --arch NAME) and PyTorch (torch_reference.py --arch
   NAME) in the same configurations, timed the same way; each round runs
   them right after the reference job's runs.
   A convolutional preset also gets PyTorch with every core in torch's
   own threads, its fastest configuration for convolutions.
4. The profile of clae's step (clae train --profile): shares of the epoch.
5. GFLOPS of each GEMM shape of the training step: clae's CLBlast path
   (build/bench-gemm) against numpy/OpenBLAS on the same cores.

Prints a Markdown report (for BENCHMARKS.md) on stdout.
Usage: /usr/bin/python3 tools/bench.py [--rounds R] [--epochs E]
       [--presets deep[,NAME...]]   (--presets '' skips part 3)
       [--presets-only]             (part 3 alone: make bench-conv)
"""
import argparse
import csv
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLAE = os.path.join(ROOT, "build", "clae")
BENCH_GEMM = os.path.join(ROOT, "build", "bench-gemm")
TORCH = os.path.join(ROOT, "tools", "torch_reference.py")
# The training set (179 MiB) streamed in 16 MiB chunks.
STREAMED = "clae, data streamed (--device-memory 64M)"


def openblas_free_env(blas_threads):
    """The environment of a user's shell: OpenBLAS picks its own kernels."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env["OPENBLAS_NUM_THREADS"] = str(blas_threads)
    return env


def run(cmd, env=None):
    """Runs cmd; returns (stdout, peak RSS in MiB)."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE,
                                env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        err = proc.stderr.read().decode()
        proc.stderr.close()
        out.seek(0)
        text = out.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{text}{err}")
    return text, usage.ru_maxrss / 1024.0


def clae_epochs(epochs, extra=()):
    """Per-epoch seconds of one clae run and its peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "m.csv")
        _, rss = run([CLAE, "train", "--epochs", str(epochs),
                      "--metrics", metrics, *extra])
        with open(metrics) as f:
            seconds = [float(row["seconds"]) for row in csv.DictReader(f)]
    return seconds, rss


def torch_epochs(epochs, blas_threads, extra=(), torch_threads=1):
    text, rss = run(["/usr/bin/python3", TORCH, "--epochs", str(epochs),
                     "--threads", str(torch_threads), *extra],
                    env=openblas_free_env(blas_threads))
    seconds = [float(s) for s in re.findall(r"seconds (\S+)", text)]
    return seconds, rss


def clae_profile(epochs):
    """Per epoch after the first: {part: seconds, "wall": seconds}; and the
    device memory peak in MiB."""
    text, _ = run([CLAE, "train", "--epochs", str(epochs), "--profile"])
    rows, epoch, device_mib = [], 0, float("nan")
    for line in text.splitlines():
        m = re.match(r"epoch (\d+)/\d+ .* seconds (\S+)", line)
        if m:
            epoch = int(m.group(1))
            if epoch > 1:
                rows.append({"wall": float(m.group(2))})
            continue
        if line.startswith("  profile") and epoch > 1:
            rows[-1].update((name, float(sec))
                            for name, sec in re.findall(r"(\w+) (\S+) s", line))
        m = re.match(r"device memory: peak (\S+) MiB", line)
        if m:
            device_mib = float(m.group(1))
    return rows, device_mib


def numpy_gflops(op, m, n, k, seconds=1.0):
    """GFLOPS of C = op(A) op(B) in float32 through numpy's BLAS."""
    rng = np.random.default_rng(0)
    a = rng.random((k, m) if op[0] == "T" else (m, k), dtype=np.float32)
    b = rng.random((n, k) if op[1] == "T" else (k, n), dtype=np.float32)
    a = a.T if op[0] == "T" else a
    b = b.T if op[1] == "T" else b
    c = np.empty((m, n), dtype=np.float32)
    for _ in range(3):
        np.matmul(a, b, out=c)
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(10):
            np.matmul(a, b, out=c)
        runs += 10
    return 2.0 * m * n * k * runs / (time.perf_counter() - start) * 1e-9


def gemm_table():
    text, _ = run([BENCH_GEMM])
    rows = []
    for line in text.splitlines():
        if not line.startswith("gemm "):
            continue
        f = dict(kv.split("=") for kv in line.split()[1:])
        rows.append(f)
    return text.splitlines()[0], rows


def numpy_worker():
    """Runs in a child with OpenBLAS free to pick kernels and threads."""
    for line in sys.stdin:
        op, m, n, k = line.split()
        print(f"{numpy_gflops(op, int(m), int(n), int(k)):.1f}", flush=True)


def preset_shape(preset):
    """784-256-64-256-784 for deep: the widths in `clae arch PRESET`."""
    text, _ = run([CLAE, "arch", preset])
    widths = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] in ("input", "dense", "conv", "deconv"):
            widths.append(words[1])
    return "-".join(widths)


def is_convolutional(preset):
    text, _ = run([CLAE, "arch", preset])
    return any(line.split()[:1] in (["conv"], ["deconv"])
               for line in text.splitlines())


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    flags = open("/proc/cpuinfo").read()
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
    import torch
    return (f"{os.cpu_count()} cores of {cpu} ({simd}), {platform.platform()}; "
            f"PyTorch {torch.__version__}, numpy {np.__version__}")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--presets-only", action="store_true",
                   help="time the presets alone (part 3)")
    p.add_argument("--presets", default="deep",
                   help="comma-separated clae presets also timed (default deep; "
                   "'' for none)")
    p.add_argument("--numpy-worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.numpy_worker:
        return numpy_worker()

    cores = os.cpu_count()
    runners, torch_names = {}, []
    if not args.presets_only:
        runners = {"clae": lambda: clae_epochs(args.epochs),
                   STREAMED: lambda: clae_epochs(args.epochs,
                                                 ("--device-memory", "64M"))}
        for blas in sorted({1, cores}):
            name = f"pytorch (1 thread, OpenBLAS {blas})"
            torch_names.append(name)
            runners[name] = lambda blas=blas: torch_epochs(args.epochs, blas)
    # The presets' runners: {preset: {trainer: runner}}, the same trainers
    # (without the streamed one) on `--arch PRESET`.
    presets = [n.strip() for n in args.presets.split(",") if n.strip()]
    shapes_of = {preset: preset_shape(preset) for preset in presets}  # fail fast
    preset_runners = {}
    for preset in presets:
        arch = ("--arch", preset)
        preset_runners[preset] = {"clae": lambda arch=arch: clae_epochs(args.epochs, arch)}
        for blas in sorted({1, cores}):
            preset_runners[preset][f"pytorch (1 thread, OpenBLAS {blas})"] = (
                lambda blas=blas, arch=arch: torch_epochs(args.epochs, blas, arch))
        if is_convolutional(preset):
            preset_runners[preset][f"pytorch ({cores} threads, OpenBLAS {cores})"] = (
                lambda arch=arch: torch_epochs(args.epochs, cores, arch, cores))
    jobs = [(None, name, runner) for name, runner in runners.items()]
    jobs += [(preset, name, runner) for preset, named in preset_runners.items()
             for name, runner in named.items()]
    epochs = {(preset, name): [] for preset, name, _ in jobs}
    rss = {(preset, name): 0.0 for preset, name, _ in jobs}
    for r in range(args.rounds):
        for preset, name, runner in jobs:
            seconds, peak = runner()
            epochs[preset, name] += seconds[1:]  # the first epoch is warm-up
            rss[preset, name] = max(rss[preset, name], peak)
            label = f"{preset}: {name}" if preset else name
            print(f"round {r + 1}: {label}: {' '.join(f'{s:.3f}' for s in seconds)}",
                  file=sys.stderr, flush=True)
    median = {key: statistics.median(v) for key, v in epochs.items()}
    print(f"Machine: {machine()}.\n")
    if not args.presets_only:
        reference_report(args, runners, torch_names, epochs, median, rss)
    for preset, named in preset_runners.items():
        print(f"## Preset {preset} ({shapes_of[preset]}): epoch time ({args.rounds} rounds "
              f"of {args.epochs} epochs, first epoch of each run dropped)\n")
        print("| trainer | median epoch (s) | epochs timed | peak RSS (MiB) |")
        print("|---|---|---|---|")
        for name in named:
            print(f"| {name} | {median[preset, name]:.3f} | "
                  f"{len(epochs[preset, name])} | {rss[preset, name]:.0f} |")
        best = min((n for n in named if n != "clae"),
                   key=lambda n: median[preset, n])
        print(f"\nclae / fastest PyTorch ({best}): "
              f"**{median[preset, 'clae'] / median[preset, best]:.2f}**\n")
    if not args.presets_only:
        profile_and_gemm_report(args, cores)


def reference_report(args, runners, torch_names, epochs, median, rss):
    """Parts 1 and 2: the reference job's table, streaming, memory."""
    best_torch = min(torch_names, key=lambda n: median[None, n])
    print(f"## Reference job: epoch time ({args.rounds} interleaved rounds of "
          f"{args.epochs} epochs, first epoch of each run dropped)\n")
    print("| trainer | median epoch (s) | epochs timed | peak RSS (MiB) |")
    print("|---|---|---|---|")
    for name in runners:
        print(f"| {name} | {median[None, name]:.3f} | {len(epochs[None, name])} | "
              f"{rss[None, name]:.0f} |")
    print(f"\nclae / fastest PyTorch ({best_torch}): "
          f"**{median[None, 'clae'] / median[None, best_torch]:.2f}**\n")
    print(f"Streaming the training set costs "
          f"{median[None, STREAMED] / median[None, 'clae']:.2f}x "
          "the resident epoch time.\n")


def profile_and_gemm_report(args, cores):
    """Parts 4 and 5: the profile of clae's step and the GEMM table."""
    profiled = []
    for _ in range(args.rounds):
        rows, device_mib = clae_profile(args.epochs)
        profiled += rows
    wall = statistics.median(r["wall"] for r in profiled)
    parts = {k: statistics.median(r[k] for r in profiled)
             for k in profiled[0] if k != "wall"}
    own_shares = [sum(v for k, v in r.items() if k not in ("wall", "gemm")) /
                  r["wall"] for r in profiled]
    device, shapes = gemm_table()
    worker = subprocess.Popen(["/usr/bin/python3", __file__, "--numpy-worker"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=openblas_free_env(cores))
    for s in shapes:
        worker.stdin.write(f"{s['op']} {s['m']} {s['n']} {s['k']}\n")
        worker.stdin.flush()
        s["numpy"] = float(worker.stdout.readline())
    worker.stdin.close()
    worker.wait()

    print(f"clae's device buffers: {device_mib:.1f} MiB at peak "
          "(on a CPU device they are part of its RSS).\n")
    print(f"## clae's step, profiled (`clae train --profile`, {args.rounds} runs, "
          f"median of {len(profiled)} epochs after each run's first: "
          f"{wall:.3f} s per epoch)\n")
    print("| part | seconds | share |")
    print("|---|---|---|")
    for name, sec in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {sec:.3f} | {100 * sec / wall:.1f} % |")
    print("\nOwn kernels, transfers and host together, per epoch: median "
          f"{100 * statistics.median(own_shares):.1f} %, range "
          f"{100 * min(own_shares):.1f}-{100 * max(own_shares):.1f} %.\n")
    print(f"## GEMMs of the training step ({device})\n")
    print("| layer | role | op | m | n | k | clae GFLOPS | numpy GFLOPS | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in shapes:
        print(f"| {s['layer']} | {s['role']} | {s['op']} | {s['m']} | {s['n']} | "
              f"{s['k']} | {s['gflops']} | {s['numpy']:.1f} | "
              f"{float(s['gflops']) / s['numpy']:.2f} |")


if __name__ == "__main__":
    main()
