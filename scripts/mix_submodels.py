#!/usr/bin/env python3
"""Measuring tool (not part of attune, never run by CI): a weighted sum of submodels of one
speaker and spec, written as a new submodel file that `attune eval --submodel FILE` accepts.

    scripts/mix_submodels.py [--only SUFFIXES] OUT W1 FILE1 [W2 FILE2 ...]

Every tensor of OUT is sum_i W_i * tensor_i (the files must hold the same tensors, f32); with
--only (comma-separated name endings), only those tensors are mixed and the rest are FILE1's. The
metadata is FILE1's with the tensor digests and checksum recomputed as attune computes them, so
attune's integrity check passes. Uses:

- a seed soup (the mean of several runs' kept adapters): `OUT 0.5 A 0.5 B`;
- interpolation from a start S toward a trained T (WiSE-FT): `OUT 0.25 S 0.75 T`;
- a residual adapter's output scaled by 0.75: `--only .up,.up_b OUT 0.75 T`.

README, "Choosing the default", footnote 9, has the figures measured with it (validation
speakers only). Standard library only.
"""
import array
import hashlib
import json
import struct
import sys


def load(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n]), bytearray(raw[8 + n :])


def floats(header, data, name, path):
    info = header.get(name)
    if info is None or info["dtype"] != "F32":
        sys.exit(f"{path}: no f32 tensor {name}")
    start, end = info["data_offsets"]
    a = array.array("f")
    a.frombytes(bytes(data[start:end]))
    return a


def main(argv):
    only = None
    if len(argv) > 2 and argv[1] == "--only":
        only = tuple(argv[2].split(","))
        argv = argv[:1] + argv[3:]
    if len(argv) < 4 or len(argv) % 2:
        sys.exit(__doc__)
    out = argv[1]
    parts = [(float(argv[i]), argv[i + 1]) for i in range(2, len(argv), 2)]
    loaded = [(w, load(p), p) for w, p in parts]
    header, data = loaded[0][1][0], bytearray(loaded[0][1][1])
    meta = json.loads(header["__metadata__"]["attune_submodel"])
    for name, info in header.items():
        if name == "__metadata__" or (only and not name.endswith(only)):
            continue
        mixed = None
        for w, (h, d), path in loaded:
            if h.get(name, {}).get("shape") != info["shape"]:
                sys.exit(f"{path}: tensor {name} differs in shape from {parts[0][1]}'s")
            a = floats(h, d, name, path)
            mixed = [w * x for x in a] if mixed is None else [m + w * x for m, x in zip(mixed, a)]
        start, end = info["data_offsets"]
        data[start:end] = array.array("f", mixed).tobytes()
        dims = "[" + ", ".join(str(d) for d in info["shape"]) + "]"
        digest = hashlib.sha256((name + dims).encode() + bytes(data[start:end]))
        meta["digests"]["tensor." + name] = digest.hexdigest()
    listing = "".join(f"{k}={v}\n" for k, v in sorted(meta["digests"].items()))
    meta["checksum"] = hashlib.sha256(listing.encode()).hexdigest()
    header["__metadata__"]["attune_submodel"] = json.dumps(meta, separators=(",", ":"))
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + bytes(data))


if __name__ == "__main__":
    main(sys.argv)
