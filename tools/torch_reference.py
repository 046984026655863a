#!/usr/bin/python3
"""PyTorch reference for clae's default autoencoder training run.

Trains the same model clae trains by default so that validation losses can be
compared directly:

  * data:   IDX image files (gzip or plain), uint8 scaled to [0,1], N x D
  * model:  D -> hidden... (ReLU) -> D (sigmoid), default hidden = 128
  * loss:   binary cross-entropy on the pre-sigmoid output (BCEWithLogitsLoss),
            mean over all elements
  * optim:  Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-7 (the Keras default)
  * init:   Glorot (Xavier) uniform weights, zero biases (the Keras default)
  * batch:  256, reshuffled each epoch, last partial batch kept

Example:
  /usr/bin/python3 tools/torch_reference.py --epochs 5 --seed 0
"""
import argparse
import gzip
import time

import numpy as np
import torch
from torch import nn

FASHION = "/usr/share/datasets/fashion-mnist"


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


def build_model(width, hidden):
    """Stack of Linear layers: width -> hidden[0] -> ... -> hidden[-1] -> width.

    ReLU after every hidden layer; the last layer has no activation because the
    sigmoid is folded into BCEWithLogitsLoss (apply torch.sigmoid to get the
    reconstruction)."""
    sizes = [width] + hidden + [width]
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1])
        # Keras glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)).
        nn.init.xavier_uniform_(lin.weight, gain=1.0)
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def evaluate(model, x, batch_size):
    """Mean BCE over every element of x (eval mode, no gradients)."""
    model.eval()
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
    p.add_argument("--hidden", default="128",
                   help="comma-separated hidden layer widths, e.g. 256,64,256")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    hidden = [int(h) for h in args.hidden.split(",") if h.strip()]

    x_train = torch.from_numpy(load_idx_images(args.data))
    x_val = torch.from_numpy(load_idx_images(args.val))
    if x_val.shape[1] != x_train.shape[1]:
        raise SystemExit("training and validation images differ in size")
    n, width = x_train.shape

    model = build_model(width, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr,
                           betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.BCEWithLogitsLoss()  # mean over all elements of the batch
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
        val_loss = evaluate(model, x_val, args.batch_size)
        print(f"epoch {epoch}  train_loss {train_loss:.6g}  "
              f"val_loss {val_loss:.6g}  seconds {seconds:.3f}", flush=True)
    print(f"final_val_loss {val_loss:.6g}")


if __name__ == "__main__":
    main()
