#!/usr/bin/env bash
# A page fault's latency and where its tail comes from: fio 4k at queue depth 1 (random read, then random write)
# on `nbdkit memory` and on the agent's export (3 donors on 127.0.0.1, 1 and 2 copies), in one run, with p50, p99,
# p99.9 and the slowest request, and the ratios against nbdkit. For each pagepool run it also prints what could
# make the tail, counted over the measured seconds only:
# - the agent's GC pauses (its -Xlog:gc, parsed) and its JIT's compile time (jstat), and the donors' (jstat);
# - the agent's own service time of an NBD request (its pagepool_agent_nbd_request_seconds histogram) and the
#   donors' time to serve a frame (pagepool_request_seconds), as how many requests took longer than fio's p99 at
#   each layer: a slow request the donors also saw is the donors'; one only the agent saw is the agent's; one only
#   fio saw happened between fio and the agent (the kernel, scheduling, fio itself).
# Also `nbdkit memory` behind one hop (nbdkit's nbd plugin in front of it, all in C): what a design with a hop
# between the export and the memory costs here before any work of its own; the agent has that hop to its donors.
# Usage: bench/page-fault.sh [SECONDS] ["AGENT JVM OPTIONS"] ["COPIES"] ["AGENT ARGUMENTS"]
#   e.g. bench/page-fault.sh 10                              the launcher's options, 1 and 2 copies
#        bench/page-fault.sh 10 "-Xms160m -Xmx160m -Xmn64m" "2"   a larger young generation (and heap: -Xmn alone
#                                                            above the launcher's -Xmx leaves no old generation), 2 copies
#        bench/page-fault.sh 10 "" "1" "--spin-micros 200"    the agent's event loop spinning longer
# The JVM options are added after the launcher's (PAGEPOOL_CLI_OPTS), so they override its choices.
# SCHED=1: also records the scheduler (perf sched) over 5 s of each random read and prints the event loops' wake-ups
# (agent's and donors') that waited over 0.3 ms for a CPU, and what ran on that CPU meanwhile (bench/sched_waits.py).
# perf itself then takes some of the CPU: the latencies of such a run are not the figures to quote.
# PIN=1: the donors on CPU 1, the agent, nbdkit and fio on CPU 0 (the donors as if on other machines: the host's
# own share of the latency).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"; EXTRA="${2:-}"; COPIES="${3:-1 2}"; AGENT_ARGS="${4:-}"
need=()
command -v fio >/dev/null || need+=(fio)
command -v nbdkit >/dev/null || need+=(nbdkit)
[ "${SCHED:-0}" = 0 ] || command -v perf >/dev/null || need+=(linux-perf)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
. bench/cluster.sh
bench_work
HOST=()
if [ "${PIN:-0}" = 1 ]; then HOST=(taskset -c 0); export DONOR_CPUS=1; fi
ensure_built

# qd1 LABEL URI MODE -> fio JSON in $WORK/LABEL-MODE.json
qd1() {
  "${HOST[@]}" fio --name=qd1 --ioengine=nbd --uri="$2" --rw="$3" --bs=4k --iodepth=1 --size=256m --time_based \
    --runtime="$SECS" --percentile_list=50:99:99.9:99.99 --output-format=json --output="$WORK/$1-$3.json" >/dev/null
}
# lat LABEL MODE -> "p50 p99 p99.9 p99.99 max count" in microseconds
lat() {
  python3 - "$WORK/$1-$2.json" "${2#rand}" <<'PY'
import json, sys
side = json.load(open(sys.argv[1]))["jobs"][0][sys.argv[2]]
c = side["clat_ns"]; p = c["percentile"]
print(" ".join(str(int(v / 1000)) for v in (p["50.000000"], p["99.000000"], p["99.900000"], p["99.990000"], c["max"])),
      side["total_ios"])
PY
}
# histogram PORT... -> "le count" lines summed over the given HTTP ports, for the metric named by $METRIC
histogram() {
  local h
  for h in "$@"; do curl -sf "http://127.0.0.1:$h/q/metrics" || curl -sf "http://127.0.0.1:$h/metrics" || true; done |
    awk -v m="${METRIC}_bucket" '$1 ~ "^" m "{" { match($1, /le="[^"]+"/); le = substr($1, RSTART + 4, RLENGTH - 5); n[le] += $2 }
      END { for (le in n) print le, n[le] }' | sort -g
}
# over B0 B1 US -> how many recorded between the two snapshots took longer than US microseconds
over() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
def load(f):
    return {float(l.split()[0]) if l.split()[0] != "+Inf" else float("inf"): float(l.split()[1]) for l in open(f)}
a, b, us = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3]) / 1e6
d = {le: b[le] - a.get(le, 0) for le in b}
total = d.get(float("inf"), 0)
# the smallest bucket bound at or above US: requests above it certainly took longer than US
le = min((x for x in d if x >= us), default=float("inf"))
print("%d of %d" % (total - d.get(le, total), total))
PY
}
# gc_pauses LOG T0 T1 -> "count total_ms max_ms" of the pauses logged between uptimes T0 and T1 (seconds)
gc_pauses() {
  python3 - "$@" <<'PY'
import re, sys
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
ms = [float(m.group(2)) for m in (re.search(r"\[(\d+\.\d+)s\].*Pause.* (\d+\.\d+)ms", l) for l in open(sys.argv[1]))
      if m and t0 <= float(m.group(1)) <= t1]
print(len(ms), "%.1f" % sum(ms), "%.1f" % max(ms or [0]))
PY
}
# donor_gc PID... -> "collections seconds" summed over the donors' JVMs (jstat -gc: young, full and concurrent)
donor_gc() {
  local p
  for p in "$@"; do jstat -gc "$p" 2>/dev/null | awk 'NR == 2 { print $(NF - 6) + $(NF - 4) + $(NF - 2), $NF }'; done |
    awk '{ n += $1; t += $2 } END { print n + 0, t + 0 }'
}
warm_qd1() {
  local m
  for m in randread randwrite; do
    METRIC=x histogram "$HP" $DONOR_HTTP >/dev/null
    fio --name=warm --ioengine=nbd --uri="$1" --rw=$m --bs=4k --iodepth=1 --size=256m --time_based --runtime=3 \
      --output=/dev/null
  done
}
uptime_of() { jcmd "$1" VM.uptime 2>/dev/null | awk 'NR == 2 { print $1 + 0 }'; }

echo "fio 4k queue depth 1, $SECS s each way, $(nproc) cores$([ "${PIN:-0}" = 1 ] && echo ", donors on CPU 1, the rest on CPU 0"), $(date -u +%F), agent JVM options added: '${EXTRA}', agent arguments added: '${AGENT_ARGS}'"
NP=$(free_port)
"${HOST[@]}" nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$NP" memory 256M >"$WORK/nbdkit.log" 2>&1 &
PIDS+=($!)
sleep 1
fio --name=fill --ioengine=nbd --uri="nbd://127.0.0.1:$NP" --rw=write --bs=1m --iodepth=4 --size=256m --output=/dev/null
fio --name=warm --ioengine=nbd --uri="nbd://127.0.0.1:$NP" --rw=randrw --bs=4k --iodepth=1 --size=256m --time_based \
  --runtime=3 --output=/dev/null
for m in randread randwrite; do qd1 nbdkit "nbd://127.0.0.1:$NP" $m; done
HOP=$(free_port)
"${HOST[@]}" nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$HOP" nbd hostname=127.0.0.1 port="$NP" >"$WORK/hop.log" 2>&1 &
PIDS+=($!)
sleep 1
fio --name=warm --ioengine=nbd --uri="nbd://127.0.0.1:$HOP" --rw=randrw --bs=4k --iodepth=1 --size=256m --time_based \
  --runtime=3 --output=/dev/null
for m in randread randwrite; do qd1 hop "nbd://127.0.0.1:$HOP" $m; done
kill "${PIDS[@]}"; PIDS=()

start_donors fault "$WORK"
for R in $COPIES; do
  AP=$(free_port); HP=$(free_port)
  PAGEPOOL_CLI_OPTS="$EXTRA -Xlog:gc:file=$WORK/gc$R.log:uptime" "${HOST[@]}" ./pagepool agent --nodes "$NODES" --size 256m \
    --disk "$WORK/swap$R.img" --state "$WORK/state$R" --nbd "127.0.0.1:$AP" --http "127.0.0.1:$HP" --replicas "$R" \
    $AGENT_ARGS >"$WORK/agent$R.log" 2>&1 &
  APID=$!
  await_agent "$WORK/agent$R.log"
  URI="nbd://127.0.0.1:$AP/pagepool"
  fill_and_warm "$URI"
  # Rounds of what is measured, reads then writes at depth 1 each after a scrape of the metrics, until the JITs of
  # the agent and the donors are quiet: warmed otherwise, the donors compiled for 4 s (their metrics exporters,
  # which the scrapes around each measured run make hot) during the first measured reads.
  settle_jit 6 "$APID ${PIDS[*]:0:3}" warm_qd1 "$URI"
  for m in randread randwrite; do
    METRIC=pagepool_agent_nbd_request_seconds histogram "$HP" >"$WORK/a0"
    METRIC=pagepool_request_seconds histogram $DONOR_HTTP >"$WORK/d0"
    j0=$(jit_seconds "$APID"); u0=$(uptime_of "$APID"); read -r dn0 dt0 <<<"$(donor_gc "${PIDS[@]:0:3}")"
    dj0=$(jit_seconds "${PIDS[@]:0:3}")
    SPID=""
    if [ "${SCHED:-0}" = 1 ] && [ $m = randread ]; then
      perf sched record -a -o "$WORK/sched$R.data" -- sleep 5 >/dev/null 2>&1 &
      SPID=$!
    fi
    qd1 "pagepool$R" "$URI" $m
    if [ -n "$SPID" ]; then
      wait "$SPID" || true
      perf sched timehist -i "$WORK/sched$R.data" 2>/dev/null >"$WORK/sched$R.txt" || true
      python3 bench/sched_waits.py "$WORK/sched$R.txt" 0.3 \
        "$APID=agent ${PIDS[0]}=donor0 ${PIDS[1]}=donor1 ${PIDS[2]}=donor2" | sed "s/^/pagepool $R: /"
    fi
    u1=$(uptime_of "$APID"); j1=$(jit_seconds "$APID"); read -r dn1 dt1 <<<"$(donor_gc "${PIDS[@]:0:3}")"
    dj1=$(jit_seconds "${PIDS[@]:0:3}")
    METRIC=pagepool_agent_nbd_request_seconds histogram "$HP" >"$WORK/a1"
    METRIC=pagepool_request_seconds histogram $DONOR_HTTP >"$WORK/d1"
    read -r p50 p99 _ <<<"$(lat "pagepool$R" $m)"
    read -r gn gt gm <<<"$(gc_pauses "$WORK/gc$R.log" "$u0" "$u1")"
    printf 'pagepool %d cop%s %-9s tail sources: GC %d pauses (%s ms in all, longest %s ms), JIT %d ms; donors GC %d pauses (%d ms in all), JIT %d ms; took longer than fio p99 (%d us): agent %s requests, donors %s frames\n' \
      "$R" "$([ "$R" = 1 ] && echo "y  " || echo ies)" "$m" "$gn" "$gt" "$gm" \
      "$(awk -v a="$j1" -v b="$j0" 'BEGIN { print int((a - b) * 1000) }')" $((dn1 - dn0)) \
      "$(awk -v a="$dt1" -v b="$dt0" 'BEGIN { print int((a - b) * 1000) }')" \
      "$(awk -v a="$dj1" -v b="$dj0" 'BEGIN { print int((a - b) * 1000) }')" "$p99" \
      "$(over "$WORK/a0" "$WORK/a1" "$p99")" "$(over "$WORK/d0" "$WORK/d1" "$p99")"
  done
  kill "$APID"; wait "$APID" 2>/dev/null || true
done

echo
printf '%-18s %-9s %7s %7s %7s %7s %7s %8s   %s\n' "" "" p50 p99 p99.9 p99.99 max requests "ratio to nbdkit (p50, p99, p99.9)"
for m in randread randwrite; do
  read -r b50 b99 b999 _ <<<"$(lat nbdkit $m)"
  for label in nbdkit hop $(for R in $COPIES; do echo "pagepool$R"; done); do
    read -r p50 p99 p999 p9999 max n <<<"$(lat "$label" $m)"
    name=$label; [ "$label" = nbdkit ] && name="nbdkit memory"; [ "$label" = hop ] && name="nbdkit one hop"
    [[ "$label" = pagepool* ]] && name="pagepool, ${label#pagepool} cop$([ "${label#pagepool}" = 1 ] && echo y || echo ies)"
    printf '%-18s %-9s %7d %7d %7d %7d %7d %8d' "$name" $m "$p50" "$p99" "$p999" "$p9999" "$max" "$n"
    [ "$label" = nbdkit ] && echo || awk -v a="$p50" -v b="$b50" -v c="$p99" -v d="$b99" -v e="$p999" -v f="$b999" \
      'BEGIN { printf "   %.2fx, %.2fx, %.2fx\n", a / b, c / d, e / f }'
  done
done
