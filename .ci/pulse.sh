#!/bin/sh
# Starts (or stops) a private PulseAudio server with a null sink, so that attune's recording
# pipeline can capture real audio in CI without a sound card: play a WAV into the sink with
# `paplay --device=vsink`, record from its monitor source `vsink.monitor`.
#
# Needs: pulseaudio pulseaudio-utils (Debian/Ubuntu).
#
#   .ci/pulse.sh start DIR   start a server whose socket lives in DIR (its XDG_RUNTIME_DIR);
#                            prints the environment to use it:  eval "$(.ci/pulse.sh start DIR)"
#   .ci/pulse.sh stop DIR    stop that server
#
# Environment: PULSE_RATE (default 48000) and PULSE_CHANNELS (default 2) set the sink format, so
# the capture path exercises conversion to 16 kHz mono.
set -eu

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    echo "usage: $0 start|stop DIR" >&2
    exit 2
fi
mkdir -p "$dir"
chmod 700 "$dir"
export XDG_RUNTIME_DIR="$dir"
export HOME="${HOME:-$dir}"

case "$cmd" in
start)
    for tool in pulseaudio pactl paplay; do
        command -v "$tool" >/dev/null || { echo "$0: $tool not found (apt-get install pulseaudio pulseaudio-utils)" >&2; exit 3; }
    done
    rate=${PULSE_RATE:-48000}
    channels=${PULSE_CHANNELS:-2}
    # -n: no default.pa; load only the native protocol and the null sink. No idle exit, no
    # module-suspend-on-idle, so the monitor delivers (silent) audio in real time all along.
    pulseaudio -n --daemonize=yes --exit-idle-time=-1 --use-pid-file=yes \
        --log-target="file:$dir/pulse.log" \
        -L "module-native-protocol-unix auth-anonymous=1" \
        -L "module-null-sink sink_name=vsink rate=$rate channels=$channels norewinds=1" >&2
    i=0
    until pactl info >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt 50 ]; then
            echo "$0: PulseAudio did not come up; log:" >&2
            cat "$dir/pulse.log" >&2 || true
            exit 1
        fi
        sleep 0.1
    done
    pactl set-default-sink vsink
    pactl set-default-source vsink.monitor
    echo "export XDG_RUNTIME_DIR='$dir'"
    echo "export PULSE_SERVER='unix:$dir/pulse/native'"
    ;;
stop)
    pulseaudio --kill 2>/dev/null || true
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
