#!/usr/bin/python3
"""One training step of a clae preset against PyTorch's, from the same
weights: the whole forward and backward pass, layer by layer.

Trains the preset for one step (256 Fashion-MNIST images, batch 256) with
clae twice from the same seed, both with plain SGD: with a learning rate of
1e-30, which leaves the initial weights as they are (clae refuses 0), and
with 100, which makes the step -100 times the gradient. Loads the first
run's weights into tools/torch_reference.py's model of the same spec,
takes the same step there on the same images, and prints per tensor the
difference of the two steps relative to PyTorch's (SGD, not Adam: Adam's
first step is the learning rate times the sign of the gradient, which
float rounding flips where a gradient is almost 0). Exits 1 when one
exceeds 1e-3.

Usage: /usr/bin/python3 tools/torch_step.py [--arch conv]
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as tr  # noqa: E402

LR = 100.0  # SGD: the step is -LR times the gradient


def load_safetensors(path):
    """(metadata, {name: array}) of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    tensors = {}
    for name, t in header.items():
        if name != "__metadata__":
            begin, end = t["data_offsets"]
            tensors[name] = np.frombuffer(data[begin:end], np.float32).reshape(t["shape"])
    return header["__metadata__"], tensors


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="conv")
    p.add_argument("--clae", default=tr.CLAE)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with gzip.open(f"{tr.FASHION}/train-images-idx3-ubyte.gz") as f:
            images = np.frombuffer(f.read()[16:16 + 256 * 784], np.uint8)
        data = os.path.join(tmp, "b256.npy")
        np.save(data, images.reshape(256, 28, 28, 1))
        saved = {}
        for name, lr in (("init", "1e-30"), ("step", str(LR))):
            saved[name] = os.path.join(tmp, f"{name}.safetensors")
            subprocess.run([args.clae, "train", "--arch", args.arch, "--data", data,
                            "--epochs", "1", "--optimizer", "sgd", "--lr", lr,
                            "--seed", "5", "--quiet", "--save", saved[name]],
                           check=True)
        meta, init = load_safetensors(saved["init"])
        _, step = load_safetensors(saved["step"])
    layers, loss, image = tr.parse_spec(meta["spec"], 784, args.arch)
    model = tr.build_spec_model(784, layers, loss, image)
    weighted = [m for m in model if hasattr(m, "weight")]
    indices = sorted({int(k.split(".")[1]) for k in init})
    with torch.no_grad():
        for i, m in zip(indices, weighted):
            m.weight.copy_(torch.from_numpy(init[f"layers.{i}.weight"].copy()))
            # clae's biases start at exactly 0; the first run's step of
            # 1e-30 would tip ReLUs over all-zero patches (z = 1e-30 > 0).
            m.bias.zero_()
            init[f"layers.{i}.bias"] = np.zeros_like(init[f"layers.{i}.bias"])
    x = torch.from_numpy(images.astype(np.float32) / 255.0).reshape(256, 784)
    if image:  # the reference model's rows are NCHW
        h, w, c = image
        x = x.view(256, h, w, c).permute(0, 3, 1, 2).reshape(256, 784)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    value = tr.make_loss(layers, loss)(model(x), x)
    opt.zero_grad()
    value.backward()
    opt.step()
    print(f"{args.arch}: loss at the start {value.item():.6f} (PyTorch)")
    worst = 0.0
    for i, m in zip(indices, weighted):
        for part in ("weight", "bias"):
            start = init[f"layers.{i}.{part}"]
            ours = step[f"layers.{i}.{part}"] - start
            theirs = getattr(m, part).detach().numpy() - start
            relative = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
            worst = max(worst, relative)
            print(f"layer {i} {part}: steps differ by {relative:.2e} of PyTorch's")
    return 1 if worst > 1e-3 else 0


if __name__ == "__main__":
    sys.exit(main())
