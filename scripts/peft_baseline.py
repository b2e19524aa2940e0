#!/usr/bin/env python3
"""Measuring tool (not part of attune, never run by CI): the standard Hugging Face PEFT LoRA
recipe for Whisper, trained on exactly the data attune trains on and scored with attune's scorer.

The recipe (issue 15's reference): Whisper tiny.en + PEFT LoRA r = 32, alpha = 64, dropout 0.05
on q_proj / v_proj of encoder self-attention and decoder self- and cross-attention; AdamW lr 1e-3,
10 warm-up steps then linear decay, batch 8, 5 epochs, 30 s padded log-mel features; greedy
decoding (no timestamps).

Data: a folder written by `attune enroll export --speaker S DIR` (WAVs + manifest.jsonl whose
"split" field is attune's train / dev / test assignment). It trains on the train part (plus dev
with --with-dev), transcribes the test part, writes the hypotheses as JSON lines {"id", "text"}
(id = the WAV's stem) and, given --attune/--home/--speaker, scores them with
`attune eval --speaker S --hypotheses FILE --json` (same normaliser, same test part). It prints
one JSON line: WER, training seconds, steps and the process's peak resident memory.

The base: attune's shipped tiny.en in Hugging Face layout, e.g. a LoRA submodel with B = 0
(`attune train --speaker S --kind lora --max-steps 1 --lr 0`) exported with
`attune library export ID DIR --format hf --precision f32` (equal to the base).

Needs (in a virtualenv, measuring only): pip install torch transformers peft

Example:
  attune --home H enroll export --speaker tremor /tmp/tremor
  nice -n 10 python3 scripts/peft_baseline.py --hf-base /tmp/hf-tiny --data /tmp/tremor \\
      --out /tmp/peft-tremor --attune target/release/attune --home H --speaker tremor
"""

import argparse
import json
import math
import os
import random
import resource
import subprocess
import time
import wave

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from transformers import (
    WhisperForConditionalGeneration,
    WhisperProcessor,
    get_linear_schedule_with_warmup,
)


def read_wav(path: str) -> np.ndarray:
    """16 kHz mono 16-bit PCM (what `attune enroll export` writes) as float32 in [-1, 1]."""
    with wave.open(path, "rb") as w:
        if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise SystemExit(f"{path}: expected 16 kHz mono 16-bit PCM")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data.astype(np.float32) / 32768.0


def load_split(data_dir: str, parts: set) -> list:
    items = []
    with open(os.path.join(data_dir, "manifest.jsonl"), encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row.get("split") in parts:
                path = os.path.join(data_dir, row["audio_filepath"])
                uid = os.path.splitext(os.path.basename(path))[0]
                items.append((uid, path, row["text"]))
    return items


def features(processor, paths: list) -> torch.Tensor:
    audio = [read_wav(p) for p in paths]
    return processor.feature_extractor(
        audio, sampling_rate=16000, return_tensors="pt"
    ).input_features  # [B, 80, 3000]: 30 s padded


def labels(processor, texts: list, start_id: int) -> torch.Tensor:
    """Token ids `<|notimestamps|> text <|endoftext|>` (the decoder start token is prepended
    by the model when it shifts the labels right), padded with -100."""
    rows = []
    for t in texts:
        ids = processor.tokenizer(" " + t.strip()).input_ids
        if ids and ids[0] == start_id:
            ids = ids[1:]
        rows.append(ids)
    width = max(len(r) for r in rows)
    return torch.tensor([r + [-100] * (width - len(r)) for r in rows])


def train(args, model, processor, items) -> tuple:
    start_id = model.config.decoder_start_token_id
    steps_per_epoch = math.ceil(len(items) / args.batch)
    total = steps_per_epoch * args.epochs
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    sched = get_linear_schedule_with_warmup(opt, args.warmup, total)
    rng = random.Random(args.seed)
    model.train()
    t0 = time.perf_counter()
    step = 0
    for epoch in range(args.epochs):
        order = items[:]
        rng.shuffle(order)
        for b in range(0, len(order), args.batch):
            batch = order[b : b + args.batch]
            x = features(processor, [p for _, p, _ in batch])
            y = labels(processor, [t for _, _, t in batch], start_id)
            loss = model(input_features=x, labels=y).loss
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 10 == 0 or step == total:
                print(f"epoch {epoch + 1} step {step}/{total} loss {loss.item():.3f}", flush=True)
    return time.perf_counter() - t0, step


@torch.no_grad()
def transcribe(model, processor, items, batch: int) -> dict:
    model.eval()
    hyps = {}
    for b in range(0, len(items), batch):
        chunk = items[b : b + batch]
        x = features(processor, [p for _, p, _ in chunk])
        out = model.generate(input_features=x, num_beams=1, do_sample=False, max_new_tokens=128)
        for (uid, _, _), text in zip(chunk, processor.batch_decode(out, skip_special_tokens=True)):
            hyps[uid] = text.strip()
    return hyps


def load_folder(folder: str) -> list:
    """A folder of NAME.wav + NAME.txt (one-line transcript), e.g. extra recordings of a speaker
    that neither tool trained on."""
    items = []
    for name in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(name)
        if ext == ".wav":
            with open(os.path.join(folder, stem + ".txt"), encoding="utf-8") as f:
                items.append((stem, os.path.join(folder, name), f.read().strip()))
    if not items:
        raise SystemExit(f"{folder}: no NAME.wav + NAME.txt pairs")
    return items


def score_set(args, model, processor, items: list, name: str) -> dict:
    """Transcribes `items`; writes a manifest of them (absolute audio paths, so their ids are
    the paths without extension) and the hypotheses under those ids (NAME_manifest.jsonl,
    NAME_hypotheses.jsonl in --out); scores with `attune eval --set`."""
    hyps = transcribe(model, processor, items, args.batch)
    manifest = os.path.join(args.out, f"{name}_manifest.jsonl")
    hyp_path = os.path.join(args.out, f"{name}_hypotheses.jsonl")
    with open(manifest, "w", encoding="utf-8") as m, open(hyp_path, "w", encoding="utf-8") as h:
        for uid, path, text in items:
            path = os.path.abspath(path)
            m.write(json.dumps({"audio_filepath": path, "text": text}) + "\n")
            h.write(json.dumps({"id": os.path.splitext(path)[0], "text": hyps[uid]}) + "\n")
    out = {f"{name}_utterances": len(items), "manifest": manifest, "hypotheses": hyp_path}
    if args.attune:
        cmd = [args.attune, "--home", args.home or args.out, "eval", "--set", manifest]
        cmd += ["--hypotheses", hyp_path, "--json"]
        scored = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        out["score"] = scored["hypotheses"]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hf-base", required=True, help="Whisper tiny.en in Hugging Face layout")
    p.add_argument("--data", required=True, help="folder from `attune enroll export`")
    p.add_argument("--out", required=True, help="folder for hypotheses and the result")
    p.add_argument("--with-dev", action="store_true", help="train on train + dev")
    p.add_argument("--rank", type=int, default=32)
    p.add_argument("--alpha", type=float, default=64.0)
    p.add_argument("--dropout", type=float, default=0.05)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--attune", help="attune binary, to score with its scorer")
    p.add_argument("--home", help="attune home holding --speaker")
    p.add_argument("--speaker", help="the speaker whose test part is scored")
    p.add_argument(
        "--dev",
        action="store_true",
        help="also transcribe and score the dev part (dev_manifest.jsonl + dev_hypotheses.jsonl "
        "in --out; scored with `attune eval --set`), to compare recipes on dev, never on test",
    )
    p.add_argument(
        "--also",
        metavar="DIR",
        help="also transcribe and score a folder of NAME.wav + NAME.txt (also_manifest.jsonl + "
        "also_hypotheses.jsonl in --out), e.g. more held-out recordings of the speaker",
    )
    args = p.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    processor = WhisperProcessor.from_pretrained(args.hf_base)
    model = WhisperForConditionalGeneration.from_pretrained(args.hf_base)
    config = LoraConfig(
        r=args.rank,
        lora_alpha=args.alpha,
        lora_dropout=args.dropout,
        target_modules=["q_proj", "v_proj"],
        bias="none",
    )
    model = get_peft_model(model, config)
    parts = {"train", "dev"} if args.with_dev else {"train"}
    train_items = load_split(args.data, parts)
    test_items = load_split(args.data, {"test"})
    if not train_items or not test_items:
        raise SystemExit(f"{args.data}: no train or no test utterances in manifest.jsonl")
    seconds, steps = train(args, model, processor, train_items)
    merged = model.merge_and_unload()
    hyps = transcribe(merged, processor, test_items, args.batch)
    hyp_path = os.path.join(args.out, "hypotheses.jsonl")
    with open(hyp_path, "w", encoding="utf-8") as f:
        for uid, text in hyps.items():
            f.write(json.dumps({"id": uid, "text": text}) + "\n")
    result = {
        "train_utterances": len(train_items),
        "test_utterances": len(test_items),
        "steps": steps,
        "train_seconds": round(seconds, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "hypotheses": hyp_path,
    }
    if args.dev and not args.with_dev:
        result["dev"] = score_set(args, merged, processor, load_split(args.data, {"dev"}), "dev")
    if args.also:
        result["also"] = score_set(args, merged, processor, load_folder(args.also), "also")
    if args.attune and args.home and args.speaker:
        cmd = [args.attune, "--home", args.home, "eval", "--speaker", args.speaker]
        cmd += ["--hypotheses", hyp_path, "--json"]
        scored = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        result["score"] = scored.get("hypotheses", scored)
    print(json.dumps(result))
    with open(os.path.join(args.out, "result.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
