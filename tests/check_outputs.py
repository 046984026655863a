#!/usr/bin/python3
"""Reads what clae wrote with numpy alone and recomputes it: the model file
(safetensors: an 8-byte header size, a JSON header, the float32 tensors) of
an input -> hidden (relu) -> output (sigmoid) model, the IDX data, and
checks the codes (clae encode) and decoded outputs (clae decode) against
the model's layers run in numpy. Prints "ok" or fails with the largest
difference. Used by tests/test_cli.c.

Usage: check_outputs.py MODEL.safetensors DATA.idx CODES.npy DECODED.npy
"""
import json
import struct
import sys

import numpy as np


def tensors(path):
    raw = open(path, "rb").read()
    size = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + size])
    body = raw[8 + size:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", (name, t["dtype"])
        begin, end = t["data_offsets"]
        out[name] = np.frombuffer(body[begin:end], "<f4").reshape(t["shape"])
    return out, header["__metadata__"]


def idx_images(path):
    raw = open(path, "rb").read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    x = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    return x.reshape(dims[0], -1).astype(np.float64) / 255.0


def main():
    model, data, codes_path, decoded_path = sys.argv[1:5]
    t, meta = tensors(model)
    assert "spec" in meta, meta
    w0, b0 = t["layers.0.weight"], t["layers.0.bias"]
    w1, b1 = t["layers.1.weight"], t["layers.1.bias"]
    x = idx_images(data)
    codes, decoded = np.load(codes_path), np.load(decoded_path)
    assert codes.dtype == np.float32 and decoded.dtype == np.float32
    want_codes = np.maximum(x @ w0.T + b0, 0.0)
    assert codes.shape == want_codes.shape, (codes.shape, want_codes.shape)
    want_decoded = 1.0 / (1.0 + np.exp(-(codes.astype(np.float64) @ w1.T + b1)))
    assert decoded.shape == want_decoded.shape, (decoded.shape, want_decoded.shape)
    for name, got, want in (("codes", codes, want_codes),
                            ("decoded", decoded, want_decoded)):
        err = np.abs(got - want).max()
        if err > 1e-4:
            sys.exit(f"{name}: largest difference {err}")
    print("ok")


if __name__ == "__main__":
    main()
