#!/usr/bin/env bash
# make_population.sh — synthesise a large, varied population of simulated speakers.
#
# WHAT
#   Builds the training population for a speaker-embedding space (issue 13):
#   SPEAKERS simulated speakers p001, p002, ... each reading N phrases of the
#   enrollment prompt script.  Every speaker gets one recipe, drawn from the
#   md5 of its id:
#
#     engine/voice  espeak-ng English voices (en-us, en-gb, en-gb-scotland,
#                   en-gb-x-rp, en-gb-x-gbclan, en-gb-x-gbcwmd, en-029,
#                   en-us-nyc), espeak-ng OTHER-language voices reading the
#                   English text (foreign accents: es, it, pt, pl, nl, sv, de,
#                   fr, cs, tr, hu, ...), or flite (kal, kal16, awb, rms)
#     variant       espeak-ng voice variant (+m1..+m8, +f1..+f5, +croak,
#                   +klatt.., named variants) or none ("-")
#     rate          espeak-ng: words per minute (-s); flite: duration_stretch
#     pitch         espeak-ng: -p 0..99; flite: sox `pitch` shift in cents
#     effect        an "atypical" trait, same for every utterance:
#                     none
#                     tremor:HZ:DEPTH      sox tremolo (3-8 Hz, 30-80 %)
#                     dysarthric:LOWPASS   slow, rate and pitch jittered per
#                                          utterance, hypernasal EQ, muffled
#                                          by a low-pass at LOWPASS Hz
#                     jitter:PCT:PITCH     rate (+-PCT %) and pitch (+-PITCH)
#                                          vary per utterance (unsteady prosody)
#                     breathy:VOL          aspiration noise following the voice
#                                          envelope (speech x noise, high-passed)
#                     muffled:LOWPASS      two low-pass stages
#                     hypernasal:DB        boost ~300 Hz by DB, notch ~1.1 kHz
#     channel       clean | telephone (8 kHz u-law, 300-3400 Hz) |
#                   noise:white|pink|brown:SNR_DB | reverb:REVERBERANCE:ROOM
#
#   Output, per speaker exactly like sample_data/speakers/<id>/:
#
#     OUT_DIR/<id>/NNN.wav        16 kHz, mono, 16-bit PCM, silence trimmed,
#                                 0.08 s padding, peak-normalised to -3 dBFS
#     OUT_DIR/<id>/NNN.txt        transcript (the prompt, one line)
#     OUT_DIR/<id>/manifest.jsonl NeMo style:
#        {"audio_filepath": "001.wav", "text": "...", "duration": 1.234, "speaker": "<id>"}
#
#   and OUT_DIR/population.tsv: two '#' comment lines (generation settings and
#   tool versions; column names), then one line per speaker:
#     id  engine  voice  variant  rate  pitch  effect  channel
#   This is the provenance a space built on the population cites.
#
#   HELD-OUT SAMPLE SPEAKERS.  The five shipped sample speakers
#   (sample_data/speakers: control, accent-de, accent-fr, slow-muffled,
#   tremor) are the test speakers of the embedding space, so no population
#   speaker may share their (engine, voice, variant): flite slt; espeak-ng de
#   without a variant; fr+f2; en-us+croak; en-us+m7.  These combinations are
#   listed once, in EXCLUDED below; a recipe draw that hits one is re-drawn
#   (deterministically, from md5 of "<id>|<field>|<try>").  Voice names are
#   compared as spelled in the lists below, which use only these spellings.
#
# REQUIREMENTS
#   bash >= 4.3, coreutils (md5sum, sort, cut), awk, espeak-ng (1.51, with
#   the voices and variants listed below), sox/soxi and flite (voices kal,
#   kal16, awb, rms).  Debian: apt-get install espeak-ng sox flite.
#
# DETERMINISM
#   Recipes come from md5("<id>|<field>|<try>"), phrase subsets/orders from
#   md5("<id>|<phrase>"), per-utterance variation from md5("<id>|<index>|..").
#   sox runs with -R (fixed random seed: the noise) and -D (no dither), so a
#   rerun with the same tool versions gives byte-identical files, whatever
#   JOBS is.  A speaker depends only on its id and the settings, so raising
#   SPEAKERS later keeps the existing speakers.
#   Each speaker is written to OUT_DIR/.tmp-<id> and moved into place when
#   complete, with a stamp OUT_DIR/.stamps/<id> (settings, tool versions,
#   md5 of this script and of the prompts, recipe).  A rerun SKIPS a speaker
#   whose folder and identical stamp exist and regenerates every other one, so
#   an interrupted run resumes, and any change to the script, the prompts, N,
#   MAXW, PAD or the tools regenerates everything.  Folders p<digits> (and
#   their stamps) beyond SPEAKERS are deleted: OUT_DIR belongs to this script.
#   population.tsv is written last.
#
# USAGE
#   scripts/make_population.sh OUT_DIR
#     OUT_DIR  where the population goes, e.g. ~/.cache/attune/population.
#              The audio must never live in git: a folder inside this
#              repository is refused unless git ignores it.
#   Environment: SPEAKERS=200 (number of speakers), N=200 (utterances per
#   speaker, of the ~298 prompts), MAXW=8 (max words per phrase; the prompts
#   have 3-7), JOBS=$(nproc) (speakers generated in parallel),
#   PROMPTS=assets/prompts/default.txt, PAD=0.08 (s).
#   Progress goes to stderr, one line per speaker, then a one-line summary.
#
# SIZE
#   Measured on 2 cores shared with other work (nice 19, JOBS=2): 6 speakers x
#   40 utterances in 17 s, i.e. ~0.07 s, ~51 KiB and ~1.6 s of audio per
#   utterance (clips 0.9-4.1 s).  The defaults (200 x 200 = 40,000
#   utterances, ~18 h of audio) therefore take ~50 min on 2 cores (roughly
#   proportionally less with more) and ~2 GiB of disk.
#
# LICENCE
#   The generated audio is derived from our own prompt text (MIT, like the
#   project).  espeak-ng is GPL-3 and flite BSD-style, but their output audio
#   is not covered by those licences.

set -euo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
self="$here/$(basename "${BASH_SOURCE[0]}")"

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: scripts/make_population.sh OUT_DIR   (e.g. ~/.cache/attune/population)" >&2
  exit 2
fi

SPEAKERS="${SPEAKERS:-200}"
N="${N:-200}"
MAXW="${MAXW:-8}"
PAD="${PAD:-0.08}"
JOBS="${JOBS:-$(nproc)}"
PROMPTS="${PROMPTS:-$root/assets/prompts/default.txt}"
for v in SPEAKERS N MAXW JOBS; do
  case "${!v}" in ''|*[!0-9]*|0) echo "error: $v must be a positive integer" >&2; exit 2 ;; esac
done

for tool in espeak-ng flite sox soxi md5sum awk sort cut; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool not found (Debian: apt-get install espeak-ng sox flite)" >&2; exit 1; }
done
[ -f "$PROMPTS" ] || { echo "error: prompt file $PROMPTS not found" >&2; exit 1; }

out="$(realpath -m "$1")"
case "$out/" in
  "$root"/*)
    if ! git -C "$root" check-ignore -q "$out" 2>/dev/null; then
      echo "error: $out is inside the repository and not ignored by git; the audio must not live in git" >&2
      exit 1
    fi ;;
esac
mkdir -p "$out"

# ---- the recipe space -------------------------------------------------------

EN_VOICES="en-us en-gb en-gb-scotland en-gb-x-rp en-gb-x-gbclan en-gb-x-gbcwmd en-029 en-us-nyc"
# Other languages' letter-to-sound rules and prosody reading English (accents).
# hi, ru, el, vi switch to English rules for Latin words but keep their voice.
ACCENT_VOICES="es es-419 it pt pt-br pl nl sv da fi cs sk hr hu ro tr id af sw cy de fr hi ru el vi"
# slt is listed so that the exclusion below is what keeps it out.
FLITE_VOICES="kal kal16 awb rms slt"
# "-" is no variant (weighted x4).  Robotic/echo variants are left out.
VARIANTS="- - - - m1 m2 m3 m4 m5 m6 m7 m8 f1 f2 f3 f4 f5 croak klatt klatt2 klatt3 klatt4
  Andy Annie Denis Gene Hugo Jacky Lee Mario Michael adam anika aunty belinda benjamin boris
  caleb david edward gustave iven iven2 john linda max michel norbert paul quincy rob robert
  shelby steph travis victor grandma grandpa"

# The held-out sample speakers' (engine/voice/variant); "*" any variant, "-" none.
EXCLUDED="flite/slt/* espeak-ng/de/- espeak-ng/fr/f2 espeak-ng/en-us/croak espeak-ng/en-us/m7"

# Every listed voice and variant must exist: a missing variant is silently ignored by espeak-ng.
espeak_data="$(espeak-ng --version | sed -n 's/.*Data at: *//p')"
for v in $EN_VOICES $ACCENT_VOICES; do
  espeak-ng -v "$v" -q x 2>/dev/null || { echo "error: espeak-ng voice $v missing" >&2; exit 1; }
done
for v in $VARIANTS; do
  [ "$v" = - ] || [ -f "$espeak_data/voices/!v/$v" ] \
    || { echo "error: espeak-ng variant $v missing ($espeak_data/voices/!v)" >&2; exit 1; }
done
for v in $FLITE_VOICES; do
  flite -lv | grep -qw -- "$v" || { echo "error: flite voice $v missing" >&2; exit 1; }
done

excluded() { # ENGINE VOICE VARIANT -> status 0 when excluded
  local e
  for e in $EXCLUDED; do
    case "$1/$2/$3" in $e) return 0 ;; esac
  done
  return 1
}

# h KEY -> integer 0..2^32-1 from md5(KEY)
h() {
  local x
  x="$(printf '%s' "$1" | md5sum | cut -c1-8)"
  echo $(( 16#$x ))
}

# pick KEY WORD... -> one of the words, chosen by md5(KEY)
pick() {
  local key="$1"; shift
  local -a w=($*)
  echo "${w[$(( $(h "$key") % ${#w[@]} ))]}"
}

# range KEY LO HI [STEP] -> LO..HI in steps of STEP, chosen by md5(KEY)
range() {
  local step="${4:-1}"
  echo $(( $2 + ($(h "$1") % (($3 - $2) / step + 1)) * step ))
}

# hundredths 115 -> 1.15
hundredths() { printf '%d.%02d' $(( $1 / 100 )) $(( $1 % 100 )); }

# draw_recipe ID -> sets engine voice variant rate pitch effect channel
draw_recipe() {
  local id="$1" t=0 r
  while :; do
    r=$(( $(h "$id|engine|$t") % 10 ))
    if [ "$r" -lt 2 ]; then
      engine=flite
      voice="$(pick "$id|voice|$t" $FLITE_VOICES)"
      variant=-
    else
      engine=espeak-ng
      if [ "$r" -lt 6 ]; then
        voice="$(pick "$id|voice|$t" $EN_VOICES)"
      else
        voice="$(pick "$id|voice|$t" $ACCENT_VOICES)"
      fi
      variant="$(pick "$id|variant|$t" $VARIANTS)"
    fi
    excluded "$engine" "$voice" "$variant" || break
    t=$(( t + 1 ))
  done
  if [ "$engine" = flite ]; then
    rate="$(hundredths "$(range "$id|rate" 80 125 5)")"   # duration_stretch
    pitch="$(range "$id|pitch" -300 300 50)"              # cents
  else
    rate="$(range "$id|rate" 130 220 5)"                  # wpm
    pitch="$(range "$id|pitch" 20 80 5)"
  fi
  r=$(( $(h "$id|effect") % 20 ))
  if   [ "$r" -lt 8 ];  then effect=none
  elif [ "$r" -lt 11 ]; then effect="tremor:$(hundredths "$(range "$id|tremor-hz" 300 800 50)"):$(range "$id|tremor-depth" 30 80 10)"
  elif [ "$r" -lt 14 ]; then effect="dysarthric:$(range "$id|lowpass" 800 2000 200)"
  elif [ "$r" -lt 16 ]; then effect="jitter:$(range "$id|jitter-rate" 10 25 5):$(range "$id|jitter-pitch" 8 20 4)"
  elif [ "$r" -lt 18 ]; then effect="breathy:$(hundredths "$(range "$id|breath" 30 80 10)")"
  elif [ "$r" -lt 19 ]; then effect="muffled:$(range "$id|lowpass" 1000 2500 250)"
  else                        effect="hypernasal:$(range "$id|nasal" 6 10 1)"
  fi
  r=$(( $(h "$id|channel") % 20 ))
  if   [ "$r" -lt 8 ];  then channel=clean
  elif [ "$r" -lt 11 ]; then channel=telephone
  elif [ "$r" -lt 16 ]; then channel="noise:$(pick "$id|noise" white pink brown):$(range "$id|snr" 5 25 5)"
  else                        channel="reverb:$(range "$id|reverberance" 20 70 10):$(range "$id|room" 20 80 20)"
  fi
}

# ---- synthesis --------------------------------------------------------------

SOX="sox -D -R -q"
TRIM="silence 1 0.05 1% reverse silence 1 0.05 1% reverse pad $PAD $PAD"
FMT="-r 16000 -c 1 -b 16 -e signed-integer"
HYPERNASAL="equalizer 300 1q 8 equalizer 1100 1.2q -12"

clamp() { local v="$1"; [ "$v" -lt "$2" ] && v="$2"; [ "$v" -gt "$3" ] && v="$3"; echo "$v"; }

# rms_db WAV -> RMS level in dBFS
rms_db() { sox "$1" -n stats 2>&1 | awk '/^RMS lev dB/ {print $4}'; }

# noise_like WAV TYPE OUT KEY -> noise as long as WAV, starting at an offset from md5(KEY)
noise_like() {
  local dur off
  dur="$(soxi -D "$1")"
  off="$(awk -v x="$(h "$4")" 'BEGIN {printf "%.3f", (x % 1000) / 1000}')"
  $SOX -n $FMT "$3" synth "$(awk -v d="$dur" -v o="$off" 'BEGIN {print d + o}')" "$2"noise \
    trim "$off" "$dur"
}

# synth ID INDEX TEXT OUTWAV TMPDIR   (recipe in engine voice variant rate pitch effect channel)
synth() {
  local id="$1" idx="$2" text="$3" dst="$4" tmp="$5"
  local raw="$tmp/raw.wav" mid="$tmp/mid.wav" s="$rate" p="$pitch" fx=() pct
  local kind="${effect%%:*}" arg="${effect#*:}"
  # Per-utterance rate/pitch (dysarthric, jitter).
  case "$kind" in
    dysarthric)
      if [ "$engine" = flite ]; then
        s="$(hundredths "$(range "$id|$idx|rate" 130 160 5)")"
        p=$(( pitch - 150 + $(range "$id|$idx|pitch" 0 300 25) ))
      else
        s="$(range "$id|$idx|rate" 100 135)"
        p="$(clamp $(( pitch - 15 + $(range "$id|$idx|pitch" 0 30) )) 0 99)"
      fi ;;
    jitter)
      pct=$(( 100 - ${arg%%:*} + $(range "$id|$idx|rate" 0 $(( 2 * ${arg%%:*} ))) ))
      if [ "$engine" = flite ]; then
        s="$(hundredths $(( 10#${rate/./} * pct / 100 )))"
        p=$(( pitch + ($(range "$id|$idx|pitch" 0 $(( 2 * ${arg#*:} ))) - ${arg#*:}) * 15 ))
      else
        s=$(( rate * pct / 100 ))
        p="$(clamp $(( pitch + $(range "$id|$idx|pitch" 0 $(( 2 * ${arg#*:} ))) - ${arg#*:} )) 0 99)"
      fi ;;
  esac
  if [ "$engine" = flite ]; then
    flite -voice "$voice" --setf duration_stretch="$s" -t "$text" -o "$raw"
    [ "$p" = 0 ] || fx+=(pitch "$p")
  else
    local v="$voice"
    [ "$variant" = - ] || v="$voice+$variant"
    espeak-ng -v "$v" -s "$s" -p "$p" -w "$raw" "$text"
  fi
  case "$kind" in
    none|breathy) ;;
    tremor)     fx+=(tremolo "${arg%%:*}" "${arg#*:}") ;;
    dysarthric) fx+=(gain -8 $HYPERNASAL lowpass "$arg" lowpass "$arg") ;;
    jitter)     ;;
    muffled)    fx+=(lowpass "$arg" lowpass "$arg") ;;
    hypernasal) fx+=(gain -10 equalizer 300 1q "$arg" equalizer 1100 1.2q -12) ;;
    *) echo "unknown effect $effect" >&2; return 1 ;;
  esac
  $SOX "$raw" $FMT "$mid" gain -6 highpass 60 "${fx[@]}" $TRIM gain -n -6
  if [ "$kind" = breathy ]; then
    # Aspiration noise that follows the voice: speech x white noise, high-passed.
    noise_like "$mid" white "$tmp/n.wav" "$id|$idx|breath"
    $SOX -T "$mid" "$tmp/n.wav" "$tmp/asp.wav" highpass 1500 gain -n -6
    $SOX -m -v 0.5 "$mid" -v "$(awk -v a="$arg" 'BEGIN {print a / 2}')" "$tmp/asp.wav" "$tmp/b.wav" gain -n -6
    mv "$tmp/b.wav" "$mid"
  fi
  case "${channel%%:*}" in
    clean)
      $SOX "$mid" $FMT "$dst" gain -n -3 ;;
    telephone)
      $SOX "$mid" -r 8000 -c 1 -e u-law "$tmp/tel.wav" sinc 300-3400
      $SOX "$tmp/tel.wav" $FMT "$dst" gain -n -3 ;;
    noise)
      local rest="${channel#noise:}" g
      noise_like "$mid" "${rest%%:*}" "$tmp/n.wav" "$id|$idx|noise"
      g="$(awk -v s="$(rms_db "$mid")" -v n="$(rms_db "$tmp/n.wav")" -v snr="${rest#*:}" \
        'BEGIN {printf "%.2f", s - snr - n}')"
      $SOX "$tmp/n.wav" "$tmp/n2.wav" gain "$g"
      $SOX -m -v 0.5 "$mid" -v 0.5 "$tmp/n2.wav" $FMT "$dst" gain -n -3 ;;
    reverb)
      local rest="${channel#reverb:}"
      $SOX "$mid" $FMT "$dst" reverb "${rest%%:*}" 50 "${rest#*:}" gain -n -3 ;;
    *) echo "unknown channel $channel" >&2; return 1 ;;
  esac
}

json_escape() {
  local s="$1"
  s="${s//\\/\\\\}"; s="${s//\"/\\\"}"
  printf '%s' "$s"
}

# ---- driver -----------------------------------------------------------------

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Prompt lines: strip comments/blank lines, trim whitespace, at most MAXW words.
grep -v '^[[:space:]]*#' "$PROMPTS" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' \
  | grep -v '^$' | awk -v m="$MAXW" 'NF <= m' > "$tmp/phrases.txt"
nphr="$(wc -l < "$tmp/phrases.txt")"
[ "$nphr" -ge "$N" ] || echo "warning: only $nphr phrases of <= $MAXW words; each speaker gets $nphr" >&2

# pick_phrases ID -> first N phrases ordered by md5("ID|phrase")
pick_phrases() {
  local line key
  while IFS= read -r line; do
    key="$(printf '%s|%s' "$1" "$line" | md5sum | cut -c1-32)"
    printf '%s\t%s\n' "$key" "$line"
  done < "$tmp/phrases.txt" | sort | cut -f2- | awk -v n="$N" 'NR <= n'
}

versions="espeak-ng=$(espeak-ng --version | awk '{print $4}') sox=$(sox --version | awk '{print $NF}')"
versions="$versions flite=$({ flite --version 2>&1 || true; } | awk '/version:/ {print $2}')"
settings="N=$N MAXW=$MAXW PAD=$PAD prompts-md5=$(md5sum < "$PROMPTS" | cut -c1-32)"
settings="$settings script-md5=$(md5sum < "$self" | cut -c1-32) $versions"

# gen_speaker ID RECIPE_LINE  (runs in a subshell; recipe variables set)
gen_speaker() {
  local id="$1" line="$2" dir="$out/.tmp-$1" t="$tmp/$1" i=0 text name dur total
  rm -rf "$dir" "$t"; mkdir -p "$dir" "$t"
  pick_phrases "$id" > "$t/pick.txt"
  : > "$dir/manifest.jsonl"
  while IFS= read -r text; do
    i=$(( i + 1 ))
    name="$(printf '%03d' "$i")"
    synth "$id" "$i" "$text" "$dir/$name.wav" "$t"
    printf '%s\n' "$text" > "$dir/$name.txt"
    dur="$(soxi -D "$dir/$name.wav" | awk '{printf "%.3f", $1}')"
    printf '{"audio_filepath": "%s.wav", "text": "%s", "duration": %s, "speaker": "%s"}\n' \
      "$name" "$(json_escape "$text")" "$dur" "$id" >> "$dir/manifest.jsonl"
  done < "$t/pick.txt"
  rm -rf "${out:?}/$id" "$t"
  mv "$dir" "$out/$id"
  printf '%s\n%s\n' "$settings" "$line" > "$out/.stamps/$id"
  total="$(awk -F'"duration": ' '{split($2, a, ","); s += a[1]} END {printf "%.1f", s}' "$out/$id/manifest.jsonl")"
  echo "$id: $i utterances, $total s  [$(echo "$line" | cut -f2- | tr '\t' ' ')]" >&2
}

mkdir -p "$out/.stamps"
# Remove leftovers of interrupted runs and speakers beyond SPEAKERS.
rm -rf "$out"/.tmp-*
for d in "$out"/p[0-9]* "$out"/.stamps/p[0-9]*; do
  [ -e "$d" ] || continue
  b="$(basename "$d")"
  case "$b" in p*[!0-9]*) continue ;; esac
  if [ "$(( 10#${b#p} ))" -gt "$SPEAKERS" ]; then
    echo "removing $d (beyond SPEAKERS=$SPEAKERS)" >&2
    rm -rf "$d"
  fi
done

{
  echo "# attune simulated speaker population (scripts/make_population.sh): $settings"
  printf '# id\tengine\tvoice\tvariant\trate\tpitch\teffect\tchannel\n'
} > "$tmp/population.tsv"

start=$SECONDS
running=0 failed=0 skipped=0
for (( k = 1; k <= SPEAKERS; k++ )); do
  id="$(printf 'p%03d' "$k")"
  draw_recipe "$id"
  line="$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$id" "$engine" "$voice" "$variant" \
    "$rate" "$pitch" "$effect" "$channel")"
  printf '%s\n' "$line" >> "$tmp/population.tsv"
  if [ -f "$out/$id/manifest.jsonl" ] && [ -f "$out/.stamps/$id" ] \
     && [ "$(cat "$out/.stamps/$id")" = "$(printf '%s\n%s' "$settings" "$line")" ]; then
    skipped=$(( skipped + 1 ))
    continue
  fi
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || failed=$(( failed + 1 ))
    running=$(( running - 1 ))
  fi
  rm -f "$out/.stamps/$id"
  ( gen_speaker "$id" "$line" ) &
  running=$(( running + 1 ))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=$(( failed + 1 ))
  running=$(( running - 1 ))
done
[ "$skipped" = 0 ] || echo "skipped $skipped complete speaker(s) (same recipe and settings)" >&2
if [ "$failed" -gt 0 ]; then
  echo "error: $failed speaker(s) failed; rerun to retry them" >&2
  exit 1
fi
cp "$tmp/population.tsv" "$out/population.tsv"

awk -F'"duration": ' '{split($2, a, ","); s += a[1]; n++} END {
    printf "population: %d speakers, %d utterances, %.1f s of audio, ", sp, n, s }' \
  sp="$SPEAKERS" $(for (( k = 1; k <= SPEAKERS; k++ )); do printf '%s/p%03d/manifest.jsonl ' "$out" "$k"; done) >&2
echo "$(( SECONDS - start )) s taken -> $out" >&2
