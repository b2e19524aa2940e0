"""Times faster-whisper on WAV files, for comparison with `attune bench decode` (a measuring
tool, not a dependency of attune).

    python3 -m venv /tmp/fw && /tmp/fw/bin/pip install faster-whisper
    attune library export ID /tmp/ct2 --format ct2 --precision int8   # e.g. a fresh LoRA (= the base)
    /tmp/fw/bin/python scripts/fw_time.py /tmp/ct2 sample_data/real/jfk.wav ...

Greedy, no timestamps, no VAD, English, int8 on 2 CPU threads; one warm-up, then the median and
minimum of 5 runs per file (the whole transcribe call: feature extraction included).
"""

import statistics
import sys
import time

from faster_whisper import WhisperModel


def main() -> None:
    model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8", cpu_threads=2)
    for wav in sys.argv[2:]:

        def run() -> str:
            segments, _ = model.transcribe(
                wav,
                beam_size=1,
                without_timestamps=True,
                language="en",
                vad_filter=False,
                condition_on_previous_text=False,
                temperature=0.0,
            )
            return " ".join(s.text for s in segments)

        run()
        times = []
        for _ in range(5):
            t = time.perf_counter()
            text = run()
            times.append(time.perf_counter() - t)
        name = wav.rsplit("/", 1)[-1]
        print(f"{name}: median {statistics.median(times):.3f} s, min {min(times):.3f} s | {text[:60]}")


if __name__ == "__main__":
    main()
