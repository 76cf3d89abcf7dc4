#!/usr/bin/env bash
# What the agent costs its host: RSS (and its peak) and heap after a full GC, for exports of 1, 16
# and 64 GiB, at rest and under fio (randrw at queue depth 16, 4 KiB and then 128 KiB requests, over the whole
# export), against the issue's target of 96 MiB + 0.2% of the export. The agent runs as `./pagepool agent` starts
# it, with the heap and direct memory the launcher works out (PAGEPOOL_AGENT_OPTS overrides, as there), on three
# donors on 127.0.0.1. The peers, in the same run: nbdkit's null plugin under the same fio (the server's own
# footprint), nbdkit's memory plugin (which holds the data it is sent, so its RSS grows with it: fio covers at most
# 1 GiB of it), and the kernel's nbd client if the nbd module can be loaded here.
# Usage: bench/agent-rss.sh [SECONDS_PER_FIO_RUN] [GIB ...]   (default: 20 s; 1 16 64)
# PEER=0 skips nbdkit. NMT=1 adds the JVM's native memory summary (-XX:NativeMemoryTracking=summary; costs a few MiB itself).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-20}"
shift || true
SIZES=("${@:-1 16 64}")
read -r -a SIZES <<<"${SIZES[*]}"
for tool in fio nbdkit jcmd jstat; do
  command -v "$tool" >/dev/null || { echo "agent-rss: $tool is needed" >&2; exit 1; }
done
. bench/cluster.sh
ensure_built
bench_work

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
vm_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
# Heap used and committed (KiB) of JVM $1 after a full GC.
heap_after_gc() {
  jcmd "$1" GC.run >/dev/null
  jstat -gc "$1" | awk 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i }
    NR == 2 { printf "%d %d\n", $c["S0U"] + $c["S1U"] + $c["EU"] + $c["OU"], $c["S0C"] + $c["S1C"] + $c["EC"] + $c["OC"] }'
}
# The peak RSS (KiB) of $1 while the command after it runs, sampled every 200 ms, and VmHWM.
peak_while() {
  local pid="$1" peak=0 r
  shift
  "$@" &
  local job=$!
  while kill -0 "$job" 2>/dev/null; do
    r=$(vm_kib "$pid" VmRSS); [ "${r:-0}" -gt "$peak" ] && peak=$r
    sleep 0.2
  done
  wait "$job"
  echo "$peak"
}
fio_run() {   # $1 uri, $2 block size, $3 size
  fio --name=rss --ioengine=nbd --uri="$1" --rw=randrw --bs="$2" --iodepth=16 --size="$3" --time_based \
    --runtime="$SECS" --verify_state_save=0 --output-format=json --output="$WORK/fio.json" >/dev/null
}
# Read plus write IOPS of the last fio run: a lean setting that starves the agent shows here, not in its RSS.
fio_iops() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]; print(int(j["read"]["iops"] + j["write"]["iops"]))' "$WORK/fio.json"
}
# One line: label, export GiB, phase, RSS, peak RSS, heap used after GC / committed, target (MiB), IOPS.
row() {
  printf '%-14s %4s GiB  %-16s RSS %5s MiB  peak %5s MiB  heap after GC %5s / %5s MiB  target %4s MiB  %s\n' "$@"
}
target_mib() { awk -v g="$1" 'BEGIN { printf "%.0f", 96 + 0.002 * g * 1024 }'; }

echo "load before: $(uptime)"
start_donors rss "$WORK"
echo "donors: $NODES"
for G in "${SIZES[@]}"; do
  AP=$(free_port); HP=$(free_port)
  [ "${NMT:-0}" = 1 ] && export PAGEPOOL_CLI_OPTS="-XX:NativeMemoryTracking=summary"
  ./pagepool agent --nodes "$NODES" --size "${G}g" --disk "$WORK/swap.img" --nbd "127.0.0.1:$AP" \
    --http "127.0.0.1:$HP" >"$WORK/agent$G.log" 2>&1 &
  APID=$!
  PIDS+=("$APID")
  await_agent "$WORK/agent$G.log"
  echo "agent ${G} GiB: $(tr '\0' ' ' <"/proc/$APID/cmdline" | grep -o -- '-X[^ ]*' | tr '\n' ' ')"
  uri="nbd://127.0.0.1:$AP/pagepool"
  sleep 2
  read -r hu hc <<<"$(heap_after_gc "$APID")"
  row pagepool "$G" "at rest" "$(mib "$(vm_kib "$APID" VmRSS)")" "$(mib "$(vm_kib "$APID" VmHWM)")" "$(mib "$hu")" "$(mib "$hc")" "$(target_mib "$G")"
  for bs in 4k 128k; do
    peak=$(peak_while "$APID" fio_run "$uri" "$bs" "${G}g")
    rss=$(vm_kib "$APID" VmRSS)
    read -r hu hc <<<"$(heap_after_gc "$APID")"
    row pagepool "$G" "fio randrw $bs" "$(mib "$rss")" "$(mib "$peak")" "$(mib "$hu")" "$(mib "$hc")" "$(target_mib "$G")" "$(fio_iops) IOPS"
  done
  echo "  peak RSS of the whole run (VmHWM): $(mib "$(vm_kib "$APID" VmHWM)") MiB; load: $(uptime | sed 's/.*load/load/')"
  grep -iE "OutOfMemory|exception" "$WORK/agent$G.log" | head -3 || true
  [ "${NMT:-0}" = 1 ] && jcmd "$APID" VM.native_memory summary | grep -E "^-|committed=" | grep -E "^-" | sed 's/^/    /'
  kill "$APID"; wait "$APID" 2>/dev/null || true
  rm -f "$WORK/swap.img"

  [ "${PEER:-1}" = 1 ] || continue
  # The peer: nbdkit's null plugin (the server alone: writes discarded, reads zeros) under the same fio, and its
  # memory plugin, which keeps what it is sent in its own RSS, under the same fio but over at most 1 GiB of the
  # export: over the whole of it, it held 14 GiB after 20 s at 128 KiB.
  for plugin in null memory; do
    NP=$(free_port)
    nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$NP" "$plugin" "${G}G" >"$WORK/nbdkit$G.log" 2>&1 &
    KPID=$!
    PIDS+=("$KPID")
    sleep 1
    span="${G}g" note=""
    if [ "$plugin" = memory ]; then span=1g note=" (over 1 GiB)"; fi
    row "nbdkit $plugin" "$G" "at rest" "$(mib "$(vm_kib "$KPID" VmRSS)")" "$(mib "$(vm_kib "$KPID" VmHWM)")" - - "$(target_mib "$G")"
    for bs in 4k 128k; do
      peak=$(peak_while "$KPID" fio_run "nbd://127.0.0.1:$NP" "$bs" "$span")
      row "nbdkit $plugin" "$G" "fio randrw $bs" "$(mib "$(vm_kib "$KPID" VmRSS)")" "$(mib "$peak")" - - "$(target_mib "$G")" "$(fio_iops) IOPS$note"
    done
    kill "$KPID"; wait "$KPID" 2>/dev/null || true
  done
done
if modprobe nbd 2>/dev/null; then
  echo "nbd module loaded: nbd-client's own footprint is a few MiB of a C process (measure it with nbd-client -C 1)"
else
  echo "kernel nbd client: not measured, the nbd module cannot be loaded here ($(modprobe nbd 2>&1 | head -1))"
fi
echo "load after: $(uptime)"
