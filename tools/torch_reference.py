#!/usr/bin/python3
"""PyTorch reference for clae's autoencoder training runs.

Trains the same model clae trains so that validation losses can be compared
directly:

  * data:   IDX image files (gzip or plain), uint8 scaled to [0,1], N x D
  * model:  D -> hidden... (ReLU) -> D (sigmoid), default hidden = 128;
            or, with --arch NAME, the preset that `clae arch NAME` prints
            (with --model F, the spec file F): its `dense UNITS ACT` lines,
            its convolutional lines (`conv`, `deconv`, `maxpool`,
            `upsample`, `flatten`, `reshape`, with clae's padding rules),
            ACT one of relu, sigmoid, tanh, linear, `latent K gaussian
            [beta=B]` (a VAE), and its loss. Images run
            NCHW here (channels last in clae): the loss is over all elements
            either way, and Glorot's initialisation does not see the order
            in which a dense layer reads an image
  * loss:   binary cross-entropy on the pre-sigmoid output (BCEWithLogitsLoss),
            mean over all elements (a spec's `loss mse`/`mae` is the mean
            over all elements of the activated output; bce on an output
            that is not a sigmoid clips it to [1e-7, 1 - 1e-7], as clae and
            Keras do)
            A VAE's loss is per sample: the reconstruction loss summed over
            the features plus beta times the KL divergence, the validation
            loss at the latent means (as clae's)
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
    """Read an IDX file of uint8 images; return float32 array N x (prod dims)
    and the images' shape "HxWx1" (or "D" for one dimension a sample)."""
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
    shape = "x".join(str(d) for d in dims[1:]) + ("x1" if ndim == 3 else "")
    return data.reshape(n, -1).astype(np.float32) / 255.0, shape


def parse_window(words, where, default_stride):
    """A convolution's or pool's options: (activation, stride, same)."""
    act, stride, same = "linear", default_stride, False
    for w in words:
        if w in ACTIVATIONS:
            act = w
        elif w.startswith("stride="):
            stride = int(w[7:])
        elif w in ("same", "valid"):
            same = w == "same"
        else:
            raise SystemExit(f"{where}: option '{w}' is not supported here")
    return act, stride, same


def parse_spec(text, width, source):
    """The layers, loss and input image of a clae model spec.

    Returns (layers, loss, image): layers a list of tuples, ("dense",
    units, activation) or the convolutional ones below; image (H, W, C) or
    None. Understands `input`, `dense UNITS [ACT]` (ACT relu, sigmoid, tanh
    or linear; clae's default is linear), `conv`/`deconv K KHxKW [ACT]
    [stride=S] [same|valid]`, `maxpool N [stride=S] [same|valid]`,
    `upsample F`, `flatten`, `reshape HxWxC`, a bare `code` marker, `loss`
    and `#` comments; refuses everything this reference does not train
    like clae (noise, dropout, batchnorm, avgpool, tied weights,
    initialisers, code penalties)."""
    layers, loss, spec_input, image = [], "bce", None, None
    for lineno, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        where = f"{source} line {lineno}"
        if words[0] == "input" and len(words) == 2:
            dims = [int(d) for d in words[1].lower().split("x")]
            spec_input = int(np.prod(dims))
            image = tuple(dims) if len(dims) == 3 else None
        elif words[0] == "dense" and len(words) in (2, 3):
            act = words[2] if len(words) == 3 else "linear"
            if act not in ACTIVATIONS:
                raise SystemExit(f"{where}: activation '{act}' is not supported "
                                 f"here ({', '.join(ACTIVATIONS)})")
            layers.append(("dense", int(words[1]), act))
        elif words[0] in ("conv", "deconv") and len(words) >= 3:
            kh, _, kw = words[2].partition("x")
            act, stride, same = parse_window(words[3:], where, 1)
            layers.append((words[0], int(words[1]), int(kh), int(kw or kh),
                           stride, same, act))
        elif words[0] == "maxpool" and len(words) >= 2:
            _, stride, same = parse_window(words[2:], where, int(words[1]))
            layers.append(("maxpool", int(words[1]), stride, same))
        elif words[0] == "upsample" and len(words) == 2:
            layers.append(("upsample", int(words[1])))
        elif words == ["flatten"]:
            layers.append(("flatten",))
        elif words[0] == "reshape" and len(words) == 2:
            layers.append(("reshape", *[int(d) for d in words[1].split("x")]))
        elif words[0] == "latent" and len(words) >= 3 and words[2] == "gaussian":
            beta = 1.0
            for w in words[3:]:
                if not w.startswith("beta="):
                    raise SystemExit(f"{where}: latent option '{w}' is not "
                                     "supported here")
                beta = float(w[5:])
            layers.append(("latent", int(words[1]), beta))
        elif words == ["code"]:
            pass  # which layer is the code does not change training
        elif words[0] == "loss" and len(words) == 2:
            loss = words[1]
            if loss not in LOSSES:
                raise SystemExit(f"{where}: loss '{loss}' is not supported "
                                 f"here ({', '.join(LOSSES)})")
        else:
            raise SystemExit(f"{where}: '{line.strip()}' is not supported here "
                             "(only dense, conv, deconv, maxpool, upsample, "
                             "flatten and reshape layers with relu, sigmoid, "
                             "tanh or linear, a bare code marker and the loss)")
    if not layers:
        raise SystemExit(f"{source}: no layers")
    if spec_input is not None and spec_input != width:
        raise SystemExit(f"{source}: the spec's input is {spec_input} wide, "
                         f"the data {width}")
    return layers, loss, image


def clae_arch(name, shape, clae=CLAE):
    """The spec text `clae arch NAME --input SHAPE` prints."""
    try:
        out = subprocess.run([clae, "arch", name, "--input", shape],
                             capture_output=True, text=True)
    except OSError as e:
        raise SystemExit(f"{clae}: {e} (build it with make all)")
    if out.returncode != 0:
        raise SystemExit(f"clae arch {name}: {out.stderr.strip()}")
    return out.stdout


class SamePool(nn.Module):
    """Max pooling with clae's (Keras's) same padding: the windows that
    reach past the image's end are cut there."""

    def __init__(self, size, stride, height, width):
        super().__init__()
        self.pool = nn.MaxPool2d(size, stride)
        pads = []
        for n in (width, height):
            out = -(-n // stride)
            total = max((out - 1) * stride + size - n, 0)
            pads += [total // 2, total - total // 2]
        self.pads = pads

    def forward(self, x):
        return self.pool(nn.functional.pad(x, self.pads, value=-float("inf")))


class ChannelsLast(nn.Module):
    """NCHW to rows flattened as clae's are (H, W, C), or back."""

    def __init__(self, to_rows, shape=None):
        super().__init__()
        self.to_rows, self.shape = to_rows, shape

    def forward(self, x):
        if self.to_rows:
            return x.permute(0, 2, 3, 1).flatten(1)
        c, h, w = self.shape
        return x.view(-1, h, w, c).permute(0, 3, 1, 2)


def side(n, kernel, stride, same, transposed):
    """An image side through a conv, deconv or pool, as clae's spec sets it."""
    if transposed:
        return n * stride if same else (n - 1) * stride + kernel
    if same:
        return -(-n // stride)
    return (n - kernel) // stride + 1


def glorot(module):
    """Keras glorot_uniform weights, zero biases (xavier_uniform_ takes the
    fans of Linear, Conv2d and ConvTranspose2d as Keras does)."""
    nn.init.xavier_uniform_(module.weight, gain=1.0)
    nn.init.zeros_(module.bias)
    return module


class Latent(nn.Module):
    """clae's `latent K gaussian`: one Linear to K means and K
    log-variances (initialised as Keras's two Dense(K) layers are, Glorot
    with fans (in, K)); in training a sample mu + exp(lv / 2) eps, else mu.
    Keeps each row's KL divergence from N(0, I) in self.kl."""

    def __init__(self, width, k):
        super().__init__()
        self.k = k
        self.linear = nn.Linear(width, 2 * k)
        limit = (6.0 / (width + k)) ** 0.5
        nn.init.uniform_(self.linear.weight, -limit, limit)
        nn.init.zeros_(self.linear.bias)
        self.kl = None

    def forward(self, x):
        stats = self.linear(x)
        mu, lv = stats[:, :self.k], stats[:, self.k:]
        self.kl = -0.5 * (1 + lv - mu * mu - lv.exp()).sum(dim=1)
        if not self.training:
            return mu
        return mu + (0.5 * lv).exp() * torch.randn_like(mu)


def build_spec_model(width, layers, loss="bce", image=None):
    """The spec's layers, each followed by its activation, except a sigmoid
    output under bce: that one is folded into BCEWithLogitsLoss (apply
    torch.sigmoid to get the reconstruction), as clae computes the loss
    from the logits there. Takes and returns rows of width values (images
    flattened NCHW); a dense layer reads an image, and reshape writes one,
    in clae's (H, W, C) order, so that clae's weights mean the same here."""
    modules, flat = [], width
    shape = None  # (C, H, W) while an image flows
    if image:
        shape = (image[2], image[0], image[1])
        modules.append(nn.Unflatten(1, shape))
    for i, layer in enumerate(layers):
        kind, act = layer[0], "linear"
        if kind == "dense":
            if shape:
                modules.append(ChannelsLast(True))
                shape = None
            modules.append(glorot(nn.Linear(flat, layer[1])))
            flat, act = layer[1], layer[2]
        elif kind == "latent":
            if shape:
                modules.append(ChannelsLast(True))
                shape = None
            modules.append(Latent(flat, layer[1]))
            flat = layer[1]
        elif kind in ("conv", "deconv"):
            _, k, kh, kw, stride, same, act = layer
            c, h, w = shape
            transposed = kind == "deconv"
            pad = ((kh - 1) // 2, (kw - 1) // 2) if same else (0, 0)
            if transposed:
                extra = stride - 1 if same else 0
                modules.append(glorot(nn.ConvTranspose2d(
                    c, k, (kh, kw), stride, pad, output_padding=extra)))
            else:
                modules.append(glorot(nn.Conv2d(c, k, (kh, kw), stride, pad)))
            shape = (k, side(h, kh, stride, same, transposed),
                     side(w, kw, stride, same, transposed))
        elif kind == "maxpool":
            _, size, stride, same = layer
            c, h, w = shape
            modules.append(SamePool(size, stride, h, w) if same
                           else nn.MaxPool2d(size, stride))
            shape = (c, side(h, size, stride, same, False),
                     side(w, size, stride, same, False))
        elif kind == "upsample":
            c, h, w = shape
            modules.append(nn.Upsample(scale_factor=layer[1], mode="nearest"))
            shape = (c, h * layer[1], w * layer[1])
        elif kind == "flatten":
            if shape:
                modules.append(ChannelsLast(True))
                shape = None
        elif kind == "reshape":
            if shape:
                modules.append(ChannelsLast(True))
            shape = (layer[3], layer[1], layer[2])
            modules.append(ChannelsLast(False, shape))
        if shape:
            flat = shape[0] * shape[1] * shape[2]
        last = i == len(layers) - 1
        if last and act == "sigmoid" and loss == "bce":
            continue
        if ACTIVATIONS[act] is not None:
            modules.append(ACTIVATIONS[act]())
    if shape:
        modules.append(nn.Flatten())
    if flat != width:
        raise SystemExit(f"the output layer has {flat} values, the data {width}")
    return nn.Sequential(*modules)


def make_loss(layers, loss, reduction="mean"):
    """The loss on the model's output, over all elements."""
    if loss == "bce" and layers[-1][-1] == "sigmoid":
        return nn.BCEWithLogitsLoss(reduction=reduction)
    if loss == "bce":
        # clae's bce on probabilities: clipped, no gradient outside the clip.
        bce = nn.BCELoss(reduction=reduction)
        return lambda out, target: bce(out.clamp(EPS, 1.0 - EPS), target)
    if loss == "mse":
        return nn.MSELoss(reduction=reduction)
    return nn.L1Loss(reduction=reduction)


def describe(width, layers, loss):
    return (f"{width} -> " + " -> ".join(" ".join(map(str, l)) for l in layers) +
            f", {loss}")


def latent_of(model):
    """A variational model's Latent module and its beta, else (None, 0)."""
    for m in model:
        if isinstance(m, Latent):
            return m, m.beta
    return None, 0.0


def evaluate(model, x, batch_size, loss_fn=None):
    """Mean loss over every element of x (eval mode, no gradients); loss_fn
    sums (default: BCE on the logits). A variational model's is the mean
    over samples of the summed reconstruction loss plus beta times the KL
    divergence, at the latent means, as clae evaluates it."""
    model.eval()
    if loss_fn is None:
        loss_fn = nn.BCEWithLogitsLoss(reduction="sum")
    latent, beta = latent_of(model)
    total = 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch_size):
            xb = x[i:i + batch_size]
            total += loss_fn(model(xb), xb).item()
            if latent:
                total += beta * latent.kl.sum().item()
    return total / (x.shape[0] if latent else x.numel())


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
    p.add_argument("--image", metavar="HxWxC",
                   help="the images' shape for --arch (default: the IDX "
                   "file's, HxWx1)")
    p.add_argument("--clae", default=CLAE,
                   help="the clae binary that prints --arch (default build/clae)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train_images, shape = load_idx_images(args.data)
    x_train = torch.from_numpy(train_images)
    x_val = torch.from_numpy(load_idx_images(args.val)[0])
    if x_val.shape[1] != x_train.shape[1]:
        raise SystemExit("training and validation images differ in size")
    n, width = x_train.shape

    image = None
    if args.arch:
        layers, loss, image = parse_spec(clae_arch(args.arch, args.image or shape,
                                                   args.clae),
                                         width, f"clae arch {args.arch}")
    elif args.model:
        with open(args.model) as f:
            layers, loss, image = parse_spec(f.read(), width, args.model)
    else:
        hidden = [int(h) for h in (args.hidden or "128").split(",") if h.strip()]
        layers = [("dense", h, "relu") for h in hidden] + [("dense", width, "sigmoid")]
        loss = "bce"
    if image:  # NCHW rows, which the loss over all elements does not mind
        h, w, c = image
        x_train = x_train.view(-1, h, w, c).permute(0, 3, 1, 2).reshape(n, width)
        x_val = x_val.view(-1, h, w, c).permute(0, 3, 1, 2).reshape(-1, width)
    # torch.manual_seed above fixes the weights: the same seed gives the same
    # model as before --arch existed.
    model = build_spec_model(width, layers, loss, image)
    for m, layer in zip((m for m in model if isinstance(m, Latent)),
                        (l for l in layers if l[0] == "latent")):
        m.beta = layer[2]
    latent, beta = latent_of(model)
    print(f"model {describe(width, layers, loss)}", file=sys.stderr, flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr,
                           betas=(0.9, 0.999), eps=1e-7)
    loss_fn = make_loss(layers, loss)  # mean over all elements of the batch
    sum_fn = make_loss(layers, loss, reduction="sum")
    if latent:  # per sample: summed over features, plus beta KL
        loss_fn = lambda out, target: (sum_fn(out, target) / target.shape[0] +
                                       beta * latent.kl.mean())
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
