#!/usr/bin/python3
"""PyTorch reference for clae's autoencoder training runs.

Trains the same model clae trains so that validation losses can be compared
directly:

  * data:   IDX image files (gzip or plain), uint8 scaled to [0,1], N x D
  * model:  D -> hidden... (ReLU) -> D (sigmoid), default hidden = 128;
            or, with --arch NAME, the dense preset that `clae arch NAME`
            prints (with --model F, the spec file F): its `dense UNITS ACT`
            lines, ACT one of relu, sigmoid, tanh, linear, and its loss
  * loss:   binary cross-entropy on the pre-sigmoid output (BCEWithLogitsLoss),
            mean over all elements (a spec's `loss mse`/`mae` is the mean
            over all elements of the activated output; bce on an output
            that is not a sigmoid clips it to [1e-7, 1 - 1e-7], as clae and
            Keras do)
  * optim:  Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-7 (the Keras default)
  * init:   Glorot (Xavier) uniform weights, zero biases (the Keras default)
  * batch:  256, reshuffled each epoch, last partial batch kept

Examples:
  /usr/bin/python3 tools/torch_reference.py --epochs 5 --seed 0
  /usr/bin/python3 tools/torch_reference.py --arch deep --epochs 5 --seed 0

Prints one line per epoch (epoch E  train_loss X  val_loss X  seconds S) and
a last line final_val_loss X on stdout.
"""
import argparse
import gzip
import os
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn

FASHION = "/usr/share/datasets/fashion-mnist"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLAE = os.path.join(ROOT, "build", "clae")

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
               "linear": None}
LOSSES = ("bce", "mse", "mae")
EPS = 1e-7  # clae's (and Keras') clip of probabilities in bce


def load_idx_images(path):
    """Read an IDX file of uint8 images; return float32 array N x (prod dims)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    # Header: two zero bytes, a type code (0x08 = uint8), the number of
    # dimensions, then one big-endian uint32 per dimension.
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not a uint8 IDX file")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {np.prod(dims)} bytes of data, got {data.size}")
    n = int(dims[0])
    return (data.reshape(n, -1).astype(np.float32) / 255.0)


def parse_spec(text, width, source):
    """The dense layers and loss of a clae model spec.

    Returns ([(units, activation), ...], loss). Understands `input`, `dense
    UNITS [ACT]` (ACT relu, sigmoid, tanh or linear; clae's default is
    linear), a bare `code` marker, `loss` and `#` comments; refuses
    everything this reference does not train like clae (noise, dropout,
    batchnorm, tied weights, initialisers, code penalties)."""
    layers, loss, spec_input = [], "bce", None
    for lineno, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        where = f"{source} line {lineno}"
        if words[0] == "input" and len(words) == 2:
            dims = words[1].lower().split("x")
            spec_input = int(np.prod([int(d) for d in dims]))
        elif words[0] == "dense" and len(words) in (2, 3):
            act = words[2] if len(words) == 3 else "linear"
            if act not in ACTIVATIONS:
                raise SystemExit(f"{where}: activation '{act}' is not supported "
                                 f"here ({', '.join(ACTIVATIONS)})")
            layers.append((int(words[1]), act))
        elif words == ["code"]:
            pass  # which layer is the code does not change training
        elif words[0] == "loss" and len(words) == 2:
            loss = words[1]
            if loss not in LOSSES:
                raise SystemExit(f"{where}: loss '{loss}' is not supported "
                                 f"here ({', '.join(LOSSES)})")
        else:
            raise SystemExit(f"{where}: '{line.strip()}' is not supported here "
                             "(only dense layers with relu, sigmoid, tanh or "
                             "linear, a bare code marker and the loss)")
    if not layers:
        raise SystemExit(f"{source}: no dense layers")
    if spec_input is not None and spec_input != width:
        raise SystemExit(f"{source}: the spec's input is {spec_input} wide, "
                         f"the data {width}")
    if layers[-1][0] != width:
        raise SystemExit(f"{source}: the output layer has {layers[-1][0]} "
                         f"units, the data {width}")
    return layers, loss


def clae_arch(name, width, clae=CLAE):
    """The spec text `clae arch NAME --input WIDTH` prints."""
    try:
        out = subprocess.run([clae, "arch", name, "--input", str(width)],
                             capture_output=True, text=True)
    except OSError as e:
        raise SystemExit(f"{clae}: {e} (build it with make all)")
    if out.returncode != 0:
        raise SystemExit(f"clae arch {name}: {out.stderr.strip()}")
    return out.stdout


def build_spec_model(width, layers, loss="bce"):
    """Stack of Linear layers width -> layers[0] -> ... -> layers[-1], each
    followed by its activation, except a sigmoid output under bce: that one
    is folded into BCEWithLogitsLoss (apply torch.sigmoid to get the
    reconstruction), as clae computes the loss from the logits there."""
    sizes = [width] + [units for units, _ in layers]
    modules = []
    for i, (units, act) in enumerate(layers):
        lin = nn.Linear(sizes[i], units)
        # Keras glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)).
        nn.init.xavier_uniform_(lin.weight, gain=1.0)
        nn.init.zeros_(lin.bias)
        modules.append(lin)
        last = i == len(layers) - 1
        if last and act == "sigmoid" and loss == "bce":
            continue
        if ACTIVATIONS[act] is not None:
            modules.append(ACTIVATIONS[act]())
    return nn.Sequential(*modules)


def build_model(width, hidden):
    """Stack of Linear layers: width -> hidden[0] -> ... -> hidden[-1] -> width.

    ReLU after every hidden layer; the last layer has no activation because the
    sigmoid is folded into BCEWithLogitsLoss (apply torch.sigmoid to get the
    reconstruction)."""
    return build_spec_model(width, [(h, "relu") for h in hidden] +
                            [(width, "sigmoid")])


def make_loss(layers, loss, reduction="mean"):
    """The loss on the model's output, over all elements."""
    if loss == "bce" and layers[-1][1] == "sigmoid":
        return nn.BCEWithLogitsLoss(reduction=reduction)
    if loss == "bce":
        # clae's bce on probabilities: clipped, no gradient outside the clip.
        bce = nn.BCELoss(reduction=reduction)
        return lambda out, target: bce(out.clamp(EPS, 1.0 - EPS), target)
    if loss == "mse":
        return nn.MSELoss(reduction=reduction)
    return nn.L1Loss(reduction=reduction)


def describe(width, layers, loss):
    return (f"{width} -> " + " -> ".join(f"{u} {a}" for u, a in layers) +
            f", {loss}")


def evaluate(model, x, batch_size, loss_fn=None):
    """Mean loss over every element of x (eval mode, no gradients); loss_fn
    sums (default: BCE on the logits)."""
    model.eval()
    if loss_fn is None:
        loss_fn = nn.BCEWithLogitsLoss(reduction="sum")
    total = 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch_size):
            xb = x[i:i + batch_size]
            total += loss_fn(model(xb), xb).item()
    return total / x.numel()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=f"{FASHION}/train-images-idx3-ubyte.gz",
                   help="training IDX image file")
    p.add_argument("--val", default=f"{FASHION}/t10k-images-idx3-ubyte.gz",
                   help="validation IDX image file")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--hidden", default=None,
                       help="comma-separated hidden layer widths (ReLU), e.g. "
                       "256,64,256 (default 128)")
    which.add_argument("--arch", metavar="NAME",
                       help="a dense clae preset, e.g. deep or bottleneck10 "
                       "(the spec `clae arch NAME` prints)")
    which.add_argument("--model", metavar="F", help="a clae model spec file")
    p.add_argument("--clae", default=CLAE,
                   help="the clae binary that prints --arch (default build/clae)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x_train = torch.from_numpy(load_idx_images(args.data))
    x_val = torch.from_numpy(load_idx_images(args.val))
    if x_val.shape[1] != x_train.shape[1]:
        raise SystemExit("training and validation images differ in size")
    n, width = x_train.shape

    if args.arch:
        layers, loss = parse_spec(clae_arch(args.arch, width, args.clae), width,
                                  f"clae arch {args.arch}")
    elif args.model:
        with open(args.model) as f:
            layers, loss = parse_spec(f.read(), width, args.model)
    else:
        hidden = [int(h) for h in (args.hidden or "128").split(",") if h.strip()]
        layers, loss = [(h, "relu") for h in hidden] + [(width, "sigmoid")], "bce"
    # torch.manual_seed above fixes the weights: the same seed gives the same
    # model as before --arch existed.
    model = build_spec_model(width, layers, loss)
    print(f"model {describe(width, layers, loss)}", file=sys.stderr, flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr,
                           betas=(0.9, 0.999), eps=1e-7)
    loss_fn = make_loss(layers, loss)  # mean over all elements of the batch
    sum_fn = make_loss(layers, loss, reduction="sum")
    gen = torch.Generator().manual_seed(args.seed)

    val_loss = float("nan")
    for epoch in range(1, args.epochs + 1):
        model.train()
        start = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        weighted_sum = 0.0
        for i in range(0, n, args.batch_size):  # last partial batch kept
            xb = x_train[perm[i:i + args.batch_size]]
            loss = loss_fn(model(xb), xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            weighted_sum += loss.item() * xb.shape[0]
        seconds = time.perf_counter() - start  # training time only
        train_loss = weighted_sum / n
        val_loss = evaluate(model, x_val, args.batch_size, sum_fn)
        print(f"epoch {epoch}  train_loss {train_loss:.6g}  "
              f"val_loss {val_loss:.6g}  seconds {seconds:.3f}", flush=True)
    print(f"final_val_loss {val_loss:.6g}")


if __name__ == "__main__":
    main()
