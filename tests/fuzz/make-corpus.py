#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora, tests/fuzz/corpus/<target>/:
small valid files of each format and slightly broken ones. The model files
are trained by build/clae (make all first; it needs an OpenCL device).
Run from the repository's root: python3 tests/fuzz/make-corpus.py. The
files are checked in; this says how they were made."""
import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.join("tests", "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


# ----- IDX ----------------------------------------------------------------

def idx(dims, payload=None, vtype=0x08, extra=b""):
    n = 1
    for d in dims:
        n *= d
    if payload is None:
        payload = bytes((7 * i) % 256 for i in range(n))
    return (bytes([0, 0, vtype, len(dims)]) +
            b"".join(struct.pack(">I", d) for d in dims) + payload + extra)


images = idx([3, 4, 4])
rgb = idx([2, 2, 3, 3])
labels = idx([5], bytes([0, 1, 2, 1, 0]))
plain = {
    "images-3x4x4": images,
    "rgb-2x2x3x3": rgb,
    "labels-5": labels,
    "one-image-1x1x1": idx([1, 1, 1]),
    "truncated-data": images[:-5],
    "truncated-header": images[:10],
    "extra-byte": images + b"\x5a",
    "bad-magic": b"\x01" + images[1:],
    "float-type": idx([2, 2, 2], vtype=0x0D, payload=bytes(32)),
    "zero-images": idx([0, 4, 4], payload=b""),
    "five-dims": idx([1, 1, 1, 1, 1]),
    "huge-declared": idx([0xFFFFFF, 0xFFFF, 0xFF], payload=b"\0" * 16),
}
for name, data in plain.items():
    put("fuzz_idx", name + ".idx", data)
    put("fuzz_idx_gz", name + ".idx", data)
put("fuzz_idx", "images-3x4x4.idx.gz", gz(images))
put("fuzz_idx", "labels-5.idx.gz", gz(labels))
put("fuzz_idx", "gz-truncated-trailer.gz", gz(images)[:-4])
put("fuzz_idx", "gz-truncated-stream.gz", gz(images)[:20])
put("fuzz_idx", "gz-extra-byte.gz", gz(images + b"\x5a"))
bad_crc = bytearray(gz(images))
bad_crc[-6] ^= 0xFF
put("fuzz_idx", "gz-bad-crc.gz", bytes(bad_crc))

# ----- .npy ---------------------------------------------------------------


def npy(descr, shape, data, major=1, order="False", pad=True):
    shape_text = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, order, shape_text)
    pre = 10 if major == 1 else 12
    if pad:
        header += " " * ((64 - (pre + len(header) + 1) % 64) % 64)
    header += "\n"
    h = header.encode("latin1")
    length = struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([major, 0]) + length + h + data


f4 = b"".join(struct.pack("<f", 0.125 * i) for i in range(6))
f8 = b"".join(struct.pack("<d", 0.5 - 0.0625 * i) for i in range(8))
u1 = bytes(range(0, 240, 20))
put("fuzz_npy", "f4-2x3.npy", npy("<f4", [2, 3], f4))
put("fuzz_npy", "f8-2x2x2.npy", npy("<f8", [2, 2, 2], f8))
put("fuzz_npy", "u1-3x2x2x1.npy", npy("|u1", [3, 2, 2, 1], u1))
put("fuzz_npy", "u1-labels-5.npy", npy("|u1", [5], bytes([0, 1, 2, 1, 0])))
put("fuzz_npy", "f4-labels-4x1.npy", npy("<f4", [4, 1], struct.pack("<4f", 0, 1, 2, 3)))
put("fuzz_npy", "v2-f4-2x3.npy", npy("<f4", [2, 3], f4, major=2))
put("fuzz_npy", "v3-f4-2x3.npy", npy("<f4", [2, 3], f4, major=3))
put("fuzz_npy", "truncated-data.npy", npy("<f4", [2, 3], f4[:-3]))
put("fuzz_npy", "extra-data.npy", npy("<f4", [2, 3], f4 + b"\0\0\0\0"))
put("fuzz_npy", "fortran.npy", npy("<f4", [2, 3], f4, order="True"))
put("fuzz_npy", "big-endian.npy", npy(">f4", [2, 3], f4))
put("fuzz_npy", "int32.npy", npy("<i4", [2, 3], f4))
put("fuzz_npy", "nan.npy", npy("<f4", [1, 2], struct.pack("<2f", float("nan"), 1.0)))
put("fuzz_npy", "zero-dim.npy", npy("<f4", [0, 3], b""))
put("fuzz_npy", "huge-shape.npy", npy("<f4", [4294967295, 4294967295], f4))
put("fuzz_npy", "scalar.npy", npy("<f4", [], f4[:4]))
put("fuzz_npy", "nine-dims.npy", npy("|u1", [1] * 9, b"\x01"))
put("fuzz_npy", "truncated-header.npy", npy("<f4", [2, 3], f4)[:30])
put("fuzz_npy", "version-4.npy", npy("<f4", [2, 3], f4, major=4))
put("fuzz_npy", "no-shape.npy",
    b"\x93NUMPY\x01\x00" + struct.pack("<H", 38) +
    b"{'descr': '<f4', 'fortran_order': False}\n"[:38] + f4)

# ----- CSV ----------------------------------------------------------------

put("fuzz_csv", "plain.csv", "0.1,0.2,0.3\n0.4,0.5,0.6\n")
put("fuzz_csv", "header.csv", "a,b,c\n1,2,3\n4,5,6\n")
put("fuzz_csv", "labels.csv", "label\n0\n1\n2\n1\n")
put("fuzz_csv", "metrics.csv",
    "epoch,train_loss,val_loss,seconds\n1,0.5,,0.1\n2,0.25,0.3,0.1\n")
put("fuzz_csv", "quoted-crlf.csv", '"x","y"\r\n"1.5","2e-3"\r\n" 3 ",4\r\n')
put("fuzz_csv", "no-final-newline.csv", "1,2\n3,4")
put("fuzz_csv", "ragged.csv", "1,2,3\n4,5\n")
put("fuzz_csv", "not-a-number.csv", "1,2\n3,x\n")
put("fuzz_csv", "header-only.csv", "a,b,c\n")
put("fuzz_csv", "empty.csv", "")
put("fuzz_csv", "inf-nan.csv", "1,inf\nnan,2\n")
put("fuzz_csv", "overflow.csv", "1e999,2\n")
put("fuzz_csv", "unterminated-quote.csv", '1,"2\n3,4\n')
put("fuzz_csv", "empty-fields.csv", "a,b\n,\n1,\n")

# ----- model specs ----------------------------------------------------------

specs = {
    "reference": "input 784\ndense 128 relu\ncode\ndense 784 sigmoid\nloss bce\n",
    "comments": "# a model\r\ninput 64   # flat\r\n\tdense 16 relu\ndense 4\ndense 64 sigmoid # out\nloss mse",
    "image-dense": "input 8x8x1\ndense 16 leaky_relu slope=0.2 init=he_normal\ncode l1=0.001\ndense 64 sigmoid init=normal(0.05)\nloss bce\n",
    "sparse": "input 16\ndense 8 sigmoid\ncode rho=0.05 beta=3\ndense 16 sigmoid\nloss mse\n",
    "tied": "input 16\ndense 8 relu\ndense 16 sigmoid tied\nloss bce\n",
    "denoise": "input 16\nnoise gaussian 0.3\ndense 8 elu alpha=0.5\ndropout 0.2\nbatchnorm relu\ndense 16 sigmoid\nloss mae\n",
    "masking": "input 16\nnoise mask 0.25\ndense 8 tanh init=uniform(0.1)\ndense 16 softmax\nloss cce\n",
    "conv": "input 8x8x1\nconv 4 3x3 relu same\nmaxpool 2 same\nconv 2 3x3 relu same\nmaxpool 2\ncode\nconv 2 3x3 relu same\nupsample 2\nconv 4 3x3 relu same\nupsample 2\nconv 1 3x3 sigmoid same\nloss bce\n",
    "conv-deconv": "input 8x8x1\nconv 4 3x3 relu same stride=2\nbatchnorm relu\nflatten\ndense 8 relu\ncode\ndense 64 relu\nreshape 4x4x4\ndeconv 1 3x3 sigmoid same stride=2\nloss bce\n",
    "avgpool": "input 4x4x2\navgpool 2\nconv 2 1x1 linear valid\nupsample 2\nconv 2 3x3 sigmoid same\nloss mse\n",
    "vae": "input 16\ndense 8 relu\nlatent 2 gaussian beta=0.5\ndense 8 relu\ndense 16 sigmoid\nloss bce\n",
    # slightly broken
    "no-input": "dense 8 relu\ndense 16 sigmoid\n",
    "unknown-layer": "input 16\ndense 8 relu\nwibble 3\ndense 16\n",
    "bad-activation": "input 16\ndense 8 rellu\ndense 16\n",
    "zero-units": "input 16\ndense 0 relu\ndense 16\n",
    "huge-units": "input 16\ndense 99999999999999999999 relu\ndense 16\n",
    "conv-without-image": "input 16\nconv 2 3x3 relu same\n",
    "two-codes": "input 16\ndense 8\ncode\ndense 4\ncode\ndense 16\n",
    "width-mismatch": "input 16\ndense 8\ndense 15 sigmoid\nloss bce\n",
    "bad-option": "input 16\ndense 8 relu slope=abc init=normal(-1)\ndense 16\n",
    "cce-without-softmax": "input 16\ndense 8\ndense 16 sigmoid\nloss cce\n",
    "too-many-words": "input 16\ndense 8 relu a b c d e f g h i\ndense 16\n",
    "empty": "",
}
for name, text in specs.items():
    put("fuzz_spec", name + ".spec", text)

# ----- model files (safetensors) -------------------------------------------

clae = os.path.join("build", "clae")
if not os.access(clae, os.X_OK):
    sys.exit("make-corpus: build/clae is missing; the model seeds need it")
tmp = tempfile.mkdtemp(prefix="clae-corpus-")
try:
    data = os.path.join(tmp, "data.csv")
    with open(data, "w") as f:
        for r in range(8):
            f.write(",".join("%.3f" % (((r * 16 + c) * 37 % 101) / 101) for c in range(16)) + "\n")
    img = os.path.join(tmp, "img.npy")
    with open(img, "wb") as f:
        f.write(npy("<f4", [4, 4, 4, 1], b"".join(struct.pack("<f", (i % 7) / 7) for i in range(64))))
    runs = {
        "dense": (data, "input 16\ndense 4 relu\ndense 16 sigmoid\nloss bce\n", []),
        "tied-sparse": (data, specs["tied"], []),
        "batchnorm-dropout": (data, "input 16\nnoise gaussian 0.1\ndense 4 relu\ndropout 0.2\nbatchnorm relu\ndense 16 sigmoid\nloss mse\n", ["--standardize"]),
        "vae": (data, "input 16\ndense 4 relu\nlatent 2 gaussian\ndense 4 relu\ndense 16 sigmoid\nloss bce\n", []),
        "conv": (img, "input 4x4x1\nconv 2 3x3 relu same\nmaxpool 2\ncode\nupsample 2\nconv 1 3x3 sigmoid same\nloss bce\n", []),
        "deconv": (img, "input 4x4x1\nconv 2 3x3 relu same stride=2\nflatten\ndense 3 relu\ndense 8 relu\nreshape 2x2x2\ndeconv 1 3x3 sigmoid same stride=2\nloss bce\n", []),
    }
    for name, (path, spec, extra) in runs.items():
        spec_file = os.path.join(tmp, name + ".spec")
        with open(spec_file, "w") as f:
            f.write(spec)
        out = os.path.join(tmp, name + ".safetensors")
        ckpt = os.path.join(tmp, name + ".ckpt.safetensors")
        subprocess.run([clae, "train", "--data", path, "--model", spec_file,
                        "--epochs", "1", "--batch-size", "4", "--save", out,
                        "--checkpoint", ckpt, "--quiet"] + extra, check=True)
        model = open(out, "rb").read()
        put("fuzz_model", name + ".safetensors", model)
        if name in ("dense", "conv"):
            put("fuzz_model", name + ".ckpt.safetensors", open(ckpt, "rb").read())
    # Slightly broken: cut short, a header size past the end, bad JSON, a
    # tensor missing, a wrong dtype, a spec that does not parse.
    model = open(os.path.join(tmp, "dense.safetensors"), "rb").read()
    size = struct.unpack("<Q", model[:8])[0]
    header = model[8:8 + size]
    put("fuzz_model", "truncated.safetensors", model[:-10])
    put("fuzz_model", "header-past-end.safetensors", struct.pack("<Q", len(model)) + model[8:])
    put("fuzz_model", "short.safetensors", model[:6])
    put("fuzz_model", "bad-json.safetensors", model[:8] + header.replace(b"{", b"[", 1) + model[8 + size:])
    put("fuzz_model", "missing-tensor.safetensors", model[:8] + header.replace(b"layers.1.bias", b"layers.9.bias") + model[8 + size:])
    put("fuzz_model", "wrong-dtype.safetensors", model[:8] + header.replace(b'"F32"', b'"F16"', 1) + model[8 + size:])
    put("fuzz_model", "bad-spec.safetensors", model[:8] + header.replace(b"dense 4 relu", b"dense 0 relu") + model[8 + size:])
finally:
    shutil.rmtree(tmp)
print("make-corpus: wrote", ROOT)
