#!/usr/bin/python3
"""make test: tools/python/clae.py against the C side.

1. Its ctypes structures have the C compiler's layout: a small C program
   prints sizeof and every field's offsetof, which must equal ctypes'.
2. It trains the reference model on 2,000 Fashion-MNIST images, encodes
   and scores them, and saves the model; `build/clae encode` of that model
   on the same images (as .npy) must give the same codes, bit for bit, and
   `build/clae eval` the same loss as the binding's evaluate.

Usage: tests/python/run.py BUILD_DIR (from the project root).
"""
import gzip
import os
import subprocess
import sys
import tempfile

import numpy as np

build = sys.argv[1] if len(sys.argv) > 1 else "build"
sys.path.insert(0, "tools/python")
os.environ.setdefault("CLAE_LIB", os.path.join(build, "libclae.so"))
import clae  # noqa: E402  (after the path and the library are set)

FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def check_layout(tmp):
    """Every mirrored field at the C compiler's offset, every size equal."""
    structs = {"clae_data": clae._Data,
               "clae_epoch_metrics": clae._EpochMetrics,
               "clae_train_options": clae._TrainOptions}
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "clae.h"',
             "int main(void)", "{"]
    for name, cls in structs.items():
        lines.append('printf("%s %%zu\\n", sizeof(%s));' % (name, name))
        for field, _ in cls._fields_:
            lines.append('printf("%s.%s %%zu\\n", offsetof(%s, %s));'
                         % (name, field, name, field))
    lines += ["return 0;", "}"]
    src, exe = os.path.join(tmp, "layout.c"), os.path.join(tmp, "layout")
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run(["cc", "-std=c11", "-Iinclude", "-o", exe, src], check=True)
    c_side = dict(line.split() for line in
                  subprocess.run([exe], check=True, capture_output=True,
                                 text=True).stdout.splitlines())
    wrong = []
    for name, cls in structs.items():
        if int(c_side[name]) != clae.ctypes.sizeof(cls):
            wrong.append("sizeof %s" % name)
        for field, _ in cls._fields_:
            if int(c_side[name + "." + field]) != getattr(cls, field).offset:
                wrong.append(name + "." + field)
    if wrong:
        sys.exit("python: clae.py's structures differ from clae.h: "
                 + ", ".join(wrong))
    print("python: the ctypes structures match clae.h (%d fields)"
          % sum(len(c._fields_) for c in structs.values()))


def fashion(n):
    with gzip.open(FASHION) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return (raw[:n * 784].reshape(n, 784) / np.float32(255)).astype(np.float32)


def check_against_cli(tmp):
    x = fashion(2000)
    model_path = os.path.join(tmp, "model.safetensors")
    with clae.Context() as ctx:
        model = ctx.model(ctx.arch_spec("reference", 784))
        history = model.train(x, epochs=2, batch_size=256)
        codes = model.encode(x)
        scores = model.score(x)
        loss = model.evaluate(x)
        model.save(model_path)
    assert [h["epoch"] for h in history] == [1, 2], history
    assert history[1]["train_loss"] < history[0]["train_loss"], history
    assert codes.shape == (2000, 128) and scores.shape == (2000,)
    assert np.all(np.isfinite(scores)) and np.all(scores > 0)

    data_path = os.path.join(tmp, "x.npy")
    codes_path = os.path.join(tmp, "codes.npy")
    np.save(data_path, x)
    subprocess.run([os.path.join(build, "clae"), "encode", "--load",
                    model_path, "--data", data_path, "--out", codes_path],
                   check=True, capture_output=True)
    cli_codes = np.load(codes_path)
    if not np.array_equal(codes, cli_codes):
        sys.exit("python: codes differ from clae encode's by up to %g"
                 % np.abs(codes - cli_codes).max())
    out = subprocess.run([os.path.join(build, "clae"), "eval", "--load",
                          model_path, "--data", data_path], check=True,
                         capture_output=True, text=True).stdout
    cli_loss = float(out.split("loss")[-1].split()[0])
    if abs(cli_loss - loss) > 1e-6 * loss:
        sys.exit("python: evaluate gave %.9g, clae eval %s" % (loss, out))
    print("python: trained 2 epochs (loss %.6f -> %.6f); codes equal clae "
          "encode's bit for bit, loss %.6f as clae eval's"
          % (history[0]["train_loss"], history[1]["train_loss"], loss))


def main():
    with tempfile.TemporaryDirectory(prefix="clae-python-") as tmp:
        check_layout(tmp)
        check_against_cli(tmp)


if __name__ == "__main__":
    main()
