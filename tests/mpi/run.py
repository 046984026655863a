#!/usr/bin/python3
"""make test: clae train across two MPI ranks (README, Training on several
processes) against the same run in one process.

    tests/mpi/run.py BUILD_DIR

On 6,000 Fashion-MNIST images (batches of 77, so each rank takes 38 or 39
rows, and the last batch of 71 splits 35 / 36), with an L2 penalty and
gradient clipping, which must see the summed gradient, over 20 epochs:
  - mpirun -np 2 exits 0, says the two ranks hold identical parameters,
    and its metrics equal the one-process run's within RTOL (relative);
  - SIGINT to mpirun (which sends the ranks SIGTERM) leaves one
    checkpoint, written by rank 0, and a two-rank --resume from it ends
    with the one-process run's metrics.
Each rank runs PoCL with one thread (POCL_MAX_PTHREAD_COUNT=1). Skipped
only when mpirun is missing (make deps installs openmpi-bin). The runs'
files stay in BUILD_DIR/mpi/.
"""
import gzip
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from check_outputs import tensors  # noqa: E402 (after the path it needs)

FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
# The largest relative difference of train_loss and val_loss allowed
# between the runs. Summing a batch's gradient over two ranks adds the
# floats in another order than one process does, and 1,560 Adam steps
# carry that further: when this was written the losses (six digits)
# were equal for 17 epochs and then differed by up to 1.5e-5.
RTOL = 1e-4
EPOCHS = 20
TIMEOUT = 120
TRAIN = ["train", "--batch-size", "77", "--seed", "3", "--l2", "1e-4",
         "--clip-norm", "1", "--epochs", str(EPOCHS)]
MODEL = ["--hidden", "64,16,64"]  # a resumed run takes it from the checkpoint


def mpirun(ranks):
    command = ["mpirun", "-np", str(ranks), "--oversubscribe",
               "-x", "POCL_MAX_PTHREAD_COUNT=1"]
    return command + (["--allow-run-as-root"] if os.geteuid() == 0 else [])


def run(command, **kw):
    p = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                       **kw)
    return p.returncode, p.stdout, p.stderr


def expect(ok, what, *outputs):
    if not ok:
        sys.exit("mpi: FAILED: %s\n%s" % (what, "\n".join(outputs)))


def write_subset(path, first, count):
    """Images first .. first + count of the Fashion-MNIST training set as a
    uint8 .npy (28x28 images, scaled by 1/255 when read)."""
    raw = gzip.open(FASHION).read()
    x = np.frombuffer(raw, np.uint8, count * 784, 16 + first * 784)
    np.save(path, x.reshape(count, 28, 28))


def metrics(path):
    """{epoch: (train_loss, val_loss)} of a metrics CSV."""
    rows = {}
    with open(path) as f:
        assert f.readline().startswith("epoch,train_loss,val_loss"), path
        for line in f:
            epoch, train, val = line.split(",")[:3]
            rows[int(epoch)] = (float(train), float(val))
    return rows


def compare_metrics(one, two, what):
    a, b = metrics(one), metrics(two)
    expect(sorted(a) == sorted(b) == list(range(1, EPOCHS + 1)),
           "%s: epochs %s against %s" % (what, sorted(b), sorted(a)))
    worst = max(abs(x - y) / abs(x) for e in a for x, y in zip(a[e], b[e]))
    expect(worst <= RTOL, "%s: losses differ by %.3g relative (allowed %g)"
           % (what, worst, RTOL), open(one).read(), open(two).read())
    return worst


def param_difference(one, two):
    """The largest difference of two model files' parameters, relative to
    the largest |parameter|: reported, not checked, as the ranks' float
    rounding, carried through Adam's steps, moves some weights visibly
    (6e-3 after 20 epochs when this was written) while the losses agree."""
    a, b = tensors(one)[0], tensors(two)[0]
    scale = max(np.abs(t).max() for t in a.values())
    return max(np.abs(a[k].astype(np.float64) - b[k]).max() for k in a) / scale


def interrupted_run(command, stdout_path, after):
    """Runs command, sends mpirun SIGINT once its stdout shows `after`."""
    with open(stdout_path, "w") as out:
        p = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE,
                             text=True)
        start = time.time()
        while after not in open(stdout_path).read():
            expect(p.poll() is None, "the run ended before %r" % after,
                   open(stdout_path).read())
            expect(time.time() - start < TIMEOUT, "no %r" % after)
            time.sleep(0.02)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=TIMEOUT)
    return p.returncode, open(stdout_path).read(), err


def main():
    build = sys.argv[1]
    clae = os.path.join(build, "clae")
    if not shutil.which("mpirun"):
        print("mpi: mpirun not found (make deps installs openmpi-bin): skipped")
        return 0
    d = os.path.join(build, "mpi")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "interrupted"))
    started = time.time()
    write_subset(os.path.join(d, "train.npy"), 0, 6000)
    write_subset(os.path.join(d, "val.npy"), 6000, 1000)
    data = ["--data", os.path.join(d, "train.npy"),
            "--val", os.path.join(d, "val.npy")]

    one = [os.path.join(d, "one.csv"), os.path.join(d, "one.safetensors")]
    rc, out, err = run([clae] + TRAIN + MODEL + data +
                       ["--metrics", one[0], "--save", one[1]])
    expect(rc == 0, "the one-process run: exit %d" % rc, out, err)

    two = [os.path.join(d, "two.csv"), os.path.join(d, "two.safetensors")]
    rc, out, err = run(mpirun(2) + [clae] + TRAIN + MODEL + data +
                       ["--metrics", two[0], "--save", two[1]])
    expect(rc == 0, "the two-rank run: exit %d" % rc, out, err)
    expect("2 ranks hold identical parameters\n" in out,
           "no line saying the ranks hold identical parameters", out, err)
    expect("rank 1" not in err, "rank 1 had something to say", out, err)
    loss_diff = compare_metrics(one[0], two[0], "two ranks")
    print("mpi: 2 ranks: exit 0, identical parameters on both ranks; losses "
          "within %.2g relative of one process's (parameters within %.2g of "
          "the largest)" % (loss_diff, param_difference(one[1], two[1])),
          flush=True)

    # Interrupted in the second epoch or later: Open MPI 4.1's mpirun sends
    # the ranks SIGTERM a second after its SIGINT (odls_base_sigkill_timeout)
    # and SIGKILL a second later, which leaves about 18 epochs of 0.15 s
    # to catch. The checkpoint goes beside --save.
    stopped = os.path.join(d, "interrupted")
    save = os.path.join(stopped, "model.safetensors")
    checkpoint = os.path.join(stopped, "model.ckpt.safetensors")
    resumed_csv = os.path.join(d, "resumed.csv")
    rc, out, err = interrupted_run(
        mpirun(2) + [clae] + TRAIN + MODEL + data +
        ["--metrics", resumed_csv, "--save", save],
        os.path.join(d, "interrupted.stdout"), "epoch 1/")
    said = [line for line in err.splitlines() if "saved a checkpoint" in line]
    expect(rc != 0, "the interrupted run exited 0", out, err)
    expect("saved a checkpoint to %s" % checkpoint in err,
           "no checkpoint saved", out, err)
    expect(os.listdir(stopped) == [os.path.basename(checkpoint)],
           "want one checkpoint and nothing else, found %s"
           % os.listdir(stopped), out, err)
    rc, out, err = run(mpirun(2) + [clae] + TRAIN + data +
                       ["--resume", checkpoint, "--metrics", resumed_csv,
                        "--save", save])
    expect(rc == 0, "the resumed run: exit %d" % rc, out, err)
    expect("2 ranks hold identical parameters\n" in out,
           "no line saying the ranks hold identical parameters", out, err)
    compare_metrics(one[0], resumed_csv, "interrupted and resumed")
    print("mpi: %s\nmpi: one checkpoint, resumed to the one-process run's "
          "losses; %.1f s in all" % (said[0], time.time() - started),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
