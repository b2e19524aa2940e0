#!/usr/bin/env bash
# make_speakers.sh — generate simulated sample speakers for attune.
#
# WHAT
#   Synthesises speech for one clean control speaker and several simulated
#   ATYPICAL speakers (foreign-accented, slow + muffled, tremulous, dysarthria-
#   like) from the enrollment prompt script, so that personalization can be
#   demonstrated and tested without real patient data.  Output:
#
#     sample_data/speakers/<id>/NNN.wav      16 kHz, mono, 16-bit PCM
#     sample_data/speakers/<id>/NNN.txt      transcript (the prompt, one line)
#     sample_data/speakers/<id>/manifest.jsonl
#        NeMo style, one JSON object per line:
#        {"audio_filepath": "001.wav", "text": "...", "duration": 1.234, "speaker": "<id>"}
#        (audio_filepath is relative to the manifest's folder)
#
#   Recipes are described in sample_data/speakers/README.md and in the
#   speaker table below.  Each atypical speaker applies the SAME distortion
#   recipe to every utterance (so a personalized model can learn it);
#   `slow-muffled` (and the optional `dysarthric`) additionally vary rate and
#   pitch per utterance, but deterministically.
#
# REQUIREMENTS
#   bash, coreutils (md5sum, sort, cut), awk, espeak-ng (with the de, fr and
#   en-us voices) and sox.  The control speaker uses flite's "slt" voice when
#   `flite` is installed (Debian: apt-get install flite espeak-ng sox) and
#   falls back to espeak-ng en-us otherwise (a note is printed; output then
#   differs from the committed files).
#
# DETERMINISM
#   Phrase subsets/orders come from md5 hashes of "<speaker>|<phrase>";
#   per-utterance variation from md5 of "<speaker>|<index>".  sox runs with
#   -R (fixed random seed, used for the breathy noise) and -D (no dither),
#   so re-running with the same tool versions gives byte-identical files.
#
# USAGE
#   sample_data/make_speakers.sh [PROMPTS_FILE] [OUT_DIR]
#     PROMPTS_FILE  default: assets/prompts/default.txt (relative to repo root)
#     OUT_DIR       default: sample_data/speakers
#   Environment: N=100 (utterances per speaker), PAD=0.08 (s), MAXW=4 (max words per
#   phrase), SPEAKERS="id id ..." (default: control accent-de accent-fr
#   slow-muffled tremor; "dysarthric" is an optional extra).
#   Existing <id>/ folders are deleted and regenerated.  Runtime ~30 s.
#
# SIZE
#   Silence is trimmed (sox silence ... reverse ...) and 0.08 s padded on each
#   side; speakers draw only from phrases of <= 4 words at brisk rates, so the
#   5 default speakers take ~22 MiB and all of sample_data/ stays under 24 MiB.
#
# LICENCE
#   The generated audio is derived from our own prompt text (MIT, like the
#   project).  espeak-ng is GPL-3 and flite BSD-style, but their output audio
#   is not covered by those licences.

set -euo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
prompts="${1:-$root/assets/prompts/default.txt}"
out="${2:-$here/speakers}"
N="${N:-100}"

for tool in espeak-ng sox soxi md5sum awk; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found" >&2; exit 1; }
done
[ -f "$prompts" ] || { echo "error: prompt file $prompts not found" >&2; exit 1; }

# Speaker table: id | max words per phrase | description (see README.md)
# Default set (what is committed).  `dysarthric` is an optional extra
# (SPEAKERS="dysarthric" ./make_speakers.sh); it is left out by default to
# respect the repository size budget.
DEFAULT_SPEAKERS="control accent-de accent-fr slow-muffled tremor"
SPEAKERS="${SPEAKERS:-$DEFAULT_SPEAKERS}"

# Only phrases of at most this many words are used (keeps clips ~1-2 s).
MAXW="${MAXW:-4}"
max_words() { echo "$MAXW"; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Prompt lines: strip comments/blank lines, trim whitespace.
grep -v '^[[:space:]]*#' "$prompts" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' \
  | grep -v '^$' > "$tmp/phrases.txt"

# hexnum STRING OFFSET -> integer 0..65535 from md5(STRING) hex digits at OFFSET
hexnum() {
  local h
  h="$(printf '%s' "$1" | md5sum | cut -c"$(( $2 + 1 ))"-"$(( $2 + 4 ))")"
  echo $(( 16#$h ))
}

# pick_phrases ID MAXW -> first N phrases (<= MAXW words) ordered by md5("ID|phrase")
pick_phrases() {
  local id="$1" maxw="$2" line key
  awk -v m="$maxw" 'NF <= m' "$tmp/phrases.txt" | while IFS= read -r line; do
    key="$(printf '%s|%s' "$id" "$line" | md5sum | cut -c1-32)"
    printf '%s\t%s\n' "$key" "$line"
  done | sort | cut -f2- | awk -v n="$N" 'NR <= n'
}

json_escape() {
  local s="$1"
  s="${s//\\/\\\\}"; s="${s//\"/\\\"}"
  printf '%s' "$s"
}

SOX="sox -D -R -q"
PAD="${PAD:-0.08}"
TRIM="silence 1 0.05 1% reverse silence 1 0.05 1% reverse pad $PAD $PAD"
FMT="-r 16000 -c 1 -b 16 -e signed-integer"

have_flite=0
command -v flite >/dev/null && flite -lv 2>/dev/null | grep -qw slt && have_flite=1

# synth ID INDEX TEXT OUTWAV
synth() {
  local id="$1" idx="$2" text="$3" dst="$4"
  local raw="$tmp/raw.wav" mid="$tmp/mid.wav"
  case "$id" in
    control)
      if [ "$have_flite" = 1 ]; then
        flite -voice slt --setf duration_stretch=0.85 -t "$text" -o "$raw"
      else
        espeak-ng -v en-us -s 190 -w "$raw" "$text"
      fi
      $SOX "$raw" $FMT "$dst" highpass 60 $TRIM gain -n -3
      ;;
    accent-de)
      # German letter-to-sound rules and prosody reading English text.
      espeak-ng -v de -s 195 -p 45 -w "$raw" "$text"
      $SOX "$raw" $FMT "$dst" $TRIM gain -n -3
      ;;
    accent-fr)
      # French rules, female variant, slightly faster.
      espeak-ng -v fr+f2 -s 195 -p 60 -w "$raw" "$text"
      $SOX "$raw" $FMT "$dst" $TRIM gain -n -3
      ;;
    slow-muffled)
      # Dysarthria-like: slow, croaky voice whose rate (120..140 wpm) and
      # pitch (20..45) vary per utterance (deterministically), hypernasal
      # resonance (boost ~300 Hz, notch ~1.1 kHz) and strongly muffled
      # (two 800 Hz low-pass stages).
      local s p
      s=$(( 120 + $(hexnum "$id|$idx" 0) % 21 ))
      p=$(( 20 + $(hexnum "$id|$idx" 4) % 26 ))
      espeak-ng -v en-us+croak -s "$s" -p "$p" -w "$raw" "$text"
      $SOX "$raw" $FMT "$dst" gain -8 equalizer 300 1q 8 equalizer 1100 1.2q -12 \
        lowpass 800 lowpass 800 $TRIM gain -n -3
      ;;
    tremor)
      # Deep amplitude tremolo (5.5 Hz, 70 %) plus a slow 1.3 Hz wobble,
      # low male voice.
      espeak-ng -v en-us+m7 -s 190 -p 35 -w "$raw" "$text"
      $SOX "$raw" $FMT "$dst" tremolo 5.5 70 tremolo 1.3 30 $TRIM gain -n -3
      ;;
    dysarthric)
      # Croaky, slow, per-utterance varying rate/pitch, hypernasal EQ,
      # band-limited, with breathy pink noise (fixed seed via sox -R).
      local s p
      s=$(( 95 + $(hexnum "$id|$idx" 0) % 31 ))   # 95..125 wpm
      p=$(( 15 + $(hexnum "$id|$idx" 4) % 36 ))   # 15..50
      espeak-ng -v en-us+croak -s "$s" -p "$p" -g 3 -w "$raw" "$text"
      $SOX "$raw" $FMT "$mid" gain -8 equalizer 300 1q 9 equalizer 1100 1.2q -12 lowpass 2500 $TRIM gain -n -6
      local dur
      dur="$(soxi -D "$mid")"
      $SOX -n $FMT "$tmp/noise.wav" synth "$dur" pinknoise vol 0.04
      $SOX -m "$mid" "$tmp/noise.wav" "$dst" gain -n -3
      ;;
    *) echo "unknown speaker $id" >&2; return 1 ;;
  esac
}

mkdir -p "$out"
[ "$have_flite" = 1 ] || echo "note: flite/slt not found; control speaker uses espeak-ng en-us" >&2

for id in $SPEAKERS; do
  dir="$out/$id"
  rm -rf "$dir"; mkdir -p "$dir"
  pick_phrases "$id" "$(max_words "$id")" > "$tmp/pick.txt"
  count="$(wc -l < "$tmp/pick.txt")"
  [ "$count" -ge "$N" ] || echo "warning: only $count phrases for $id" >&2
  : > "$dir/manifest.jsonl"
  i=0
  while IFS= read -r text; do
    i=$(( i + 1 ))
    name="$(printf '%03d' "$i")"
    synth "$id" "$i" "$text" "$dir/$name.wav"
    printf '%s\n' "$text" > "$dir/$name.txt"
    dur="$(soxi -D "$dir/$name.wav" | awk '{printf "%.3f", $1}')"
    printf '{"audio_filepath": "%s.wav", "text": "%s", "duration": %s, "speaker": "%s"}\n' \
      "$name" "$(json_escape "$text")" "$dur" "$id" >> "$dir/manifest.jsonl"
  done < "$tmp/pick.txt"
  total="$(awk -F'"duration": ' '{split($2,a,","); s+=a[1]} END{printf "%.1f", s}' "$dir/manifest.jsonl")"
  echo "$id: $i utterances, ${total} s"
done
