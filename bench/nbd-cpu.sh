#!/usr/bin/env bash
# Where the CPU of an NBD request goes: fio 4k on the agent's export (3 donors on 127.0.0.1) and on `nbdkit memory`,
# in one run, with the CPU (utime + stime from /proc/PID/stat) that every process spent per request: the agent,
# each donor, nbdkit, and fio itself. With perf installed, also the system calls and context switches per request
# of each process (perf stat on the raw_syscalls:sys_enter tracepoint), since on a VM a system call or a wake-up
# can cost more than the work it carries. The machine has two cores: a request's whole CPU bounds the IOPS. For
# pagepool, also how many pages the donors' PUT and GET frames carried, from their metrics.
# Each side first runs the measured job in 5 s rounds until its JVMs compiled for under 5% of one (at most 12 rounds),
# and the compilers' time during the measured run is printed: a JIT still at work would be counted as the export's.
# Usage: bench/nbd-cpu.sh [SECONDS] [REPLICAS] [QD] [FIO MODE] ["AGENT OPTIONS"]   e.g. bench/nbd-cpu.sh 10 2 32 randrw
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"; R="${2:-2}"; QD="${3:-32}"; MODE="${4:-randrw}"; AGENT_OPTS="${5:-}"
need=()
command -v fio >/dev/null || need+=(fio)
command -v nbdkit >/dev/null || need+=(nbdkit)
command -v perf >/dev/null || need+=(linux-perf)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || true
fi
. bench/cluster.sh
build_here
bench_work

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# measure LABEL URI "NAME=PID ..." ["DONOR HTTP PORTS"]: fio MODE at QD for SECS on URI, after a warm-up; with the
# donors' ports, also the pages their PUT and GET frames carried
measure() {
  local label="$1" uri="$2" procs="$3" ports="${4:-}" np name pid stats=() pids="" jit0 frames0="0 0 0 0" frames1="0 0 0 0"
  for np in $procs; do pids+="${np#*=} "; done
  # The donors' metrics pages compile their exporter (seconds of JIT on two cores, over the first few pages): a
  # few here, before the warm-up waits for the compilers, so that none of it lands in the measured run.
  if [ -n "$ports" ]; then for _ in 1 2 3 4 5; do donor_frames $ports >/dev/null; done; fi
  settle_jit 12 "$pids" fio --name=warm --ioengine=nbd --uri="$uri" --rw="$MODE" --bs=4k --iodepth="$QD" --size=256m \
    --time_based --runtime=5 --output=/dev/null
  jit0=$(jit_seconds $pids)
  # Scraped outside the CPU counted: a metrics page costs a donor milliseconds.
  [ -z "$ports" ] || frames0=$(donor_frames $ports)
  declare -A t0
  for np in $procs; do
    name=${np%=*}; pid=${np#*=}; t0[$name]=$(ticks "$pid")
    if command -v perf >/dev/null; then
      perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$pid" -o "$WORK/$label-$name.perf" \
        -- sleep "$SECS" 2>/dev/null &
      stats+=($!)
    fi
  done
  TIMEFORMAT='%U %S'
  { time fio --name=m --ioengine=nbd --uri="$uri" --rw="$MODE" --bs=4k --iodepth="$QD" --size=256m --time_based \
      --runtime="$SECS" --output-format=json --output="$WORK/$label.json" >/dev/null; } 2>"$WORK/$label-fio.time"
  for pid in "${stats[@]:-}"; do wait "$pid" 2>/dev/null || true; done
  awk -v a="$(jit_seconds $pids)" -v b="$jit0" 'BEGIN { printf "compilers during the measured run: %d ms\n", (a - b) * 1000 }'
  : >"$WORK/$label.cpu"
  for np in $procs; do
    name=${np%=*}; pid=${np#*=}
    echo "$name $(( $(ticks "$pid") - ${t0[$name]} ))" >>"$WORK/$label.cpu"
  done
  [ -z "$ports" ] || frames1=$(donor_frames $ports)
  python3 - "$WORK" "$label" "$(getconf CLK_TCK)" "$procs" "$frames0" "$frames1" <<'PY'
import json, os, sys
work, label, hz, procs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split()
f0, f1 = [int(v) for v in sys.argv[5].split()], [int(v) for v in sys.argv[6].split()]
job = json.load(open("%s/%s.json" % (work, label)))["jobs"][0]
ios = sum(job[s]["total_ios"] for s in ("read", "write"))
iops = sum(job[s]["iops"] for s in ("read", "write"))
lat = "; ".join("%s p50 %d us" % (s, job[s]["clat_ns"]["percentile"]["50.000000"] / 1000)
                for s in ("read", "write") if job[s]["total_ios"])
print("%s: %d IOPS (%s)" % (label, iops, lat))
total = 0.0
rows = [l.split() for l in open("%s/%s.cpu" % (work, label))]
u, s = open("%s/%s-fio.time" % (work, label)).read().split()
rows.append(["fio", (float(u) + float(s)) * hz])
for name, t in rows:
    us = float(t) * 1e6 / hz / ios
    total += us
    extra = ""
    f = "%s/%s-%s.perf" % (work, label, name)
    if os.path.exists(f):
        c = {l.split(",")[2]: l.split(",")[0] for l in open(f) if l.count(",") > 2 and l[0].isdigit()}
        if "raw_syscalls:sys_enter" in c:
            extra = "   %5.2f system calls, %5.2f context switches per request" % (
                int(c["raw_syscalls:sys_enter"]) / ios, int(c.get("context-switches", 0)) / ios)
    print("  %-10s %6.1f us CPU per request%s" % (name, us, extra))
print("  %-10s %6.1f us CPU per request (2 cores: at most %d requests/s)" % ("all", total, 2e6 / total))
pf, pp, gf, gp = (b - a for a, b in zip(f0, f1))
if pf or gf:
    print("  donors: %d PUT frames (%.2f pages each), %d GET frames (%.2f pages each), %.2f frames per request" % (
        pf, pp / max(pf, 1), gf, gp / max(gf, 1), (pf + gf) / ios))
PY
}

start_donors cpu "$WORK"
AP=$(free_port); HP=$(free_port)
./pagepool agent --nodes "$NODES" --size 256m --disk "$WORK/swap.img" --state "$WORK/state" --nbd "127.0.0.1:$AP" \
  --http "127.0.0.1:$HP" --replicas "$R" ${AGENT_OPTS} >"$WORK/agent.log" 2>&1 &
PIDS+=($!)
await_agent "$WORK/agent.log"
URI="nbd://127.0.0.1:$AP/pagepool"
# Every slot written once; measure() then warms the JIT up until it is done, not counted.
fio --name=fill --ioengine=nbd --uri="$URI" --rw=write --bs=1m --iodepth=4 --size=256m --output=/dev/null
echo "fio $MODE 4k, queue depth $QD, $SECS s, agent options '$AGENT_OPTS', $(nproc) cores, $(date -u +%F)"
measure "pagepool-${R}-copies" "$URI" "agent=${PIDS[3]} donor0=${PIDS[0]} donor1=${PIDS[1]} donor2=${PIDS[2]}" "$DONOR_HTTP"
for p in "${PIDS[@]}"; do kill "$p"; done
PIDS=()
sleep 2

NP=$(free_port)
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$NP" memory 256M &
PIDS+=($!)
sleep 1
fio --name=fill --ioengine=nbd --uri="nbd://127.0.0.1:$NP" --rw=write --bs=1m --iodepth=4 --size=256m --output=/dev/null
measure "nbdkit-memory" "nbd://127.0.0.1:$NP" "nbdkit=${PIDS[0]}"
