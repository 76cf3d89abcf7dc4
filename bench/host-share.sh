#!/usr/bin/env bash
# The host's share, with the donors as if on other machines: the 3 donors pinned to CPU 1, the agent and fio (and
# nbdcopy) to CPU 0; against `nbdkit memory` with fio and nbdcopy on that same CPU 0, in the same run. What a
# swapping host pays is the agent's CPU and latency; the donors' CPU is the other machines'. For each export:
# fio 4k randrw at depth 32 and randread at depth 64 (IOPS, and the CPU per request of the server process, the
# agent or nbdkit, from /proc/PID/stat), and nbdcopy of SIZE MiB into the export (the third copy: steady state).
# Usage: bench/host-share.sh [SECONDS] [SIZE_MIB] ["COPIES"]   e.g. bench/host-share.sh 10 256 "1 2"
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"; SIZE_MIB="${2:-256}"; COPIES="${3:-1 2}"
need=()
command -v fio >/dev/null || need+=(fio)
command -v nbdkit >/dev/null || need+=(nbdkit)
command -v nbdcopy >/dev/null || need+=(libnbd-bin)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
. bench/cluster.sh
bench_work
ensure_built
export DONOR_CPUS=1
HOST=(taskset -c 0)
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/in.bin"
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run LABEL URI PID: the three measures of one export served by process PID -> a line in $WORK/results
run() {
  local label="$1" uri="$2" pid="$3" t0 t1 c0 c1 job
  local -a row=("$label")
  for job in "randrw 32" "randread 64"; do
    set -- $job
    c0=$(ticks "$pid")
    "${HOST[@]}" fio --name=m --ioengine=nbd --uri="$uri" --rw="$1" --bs=4k --iodepth="$2" --size="${SIZE_MIB}m" \
      --time_based --runtime="$SECS" --output-format=json --output="$WORK/m.json" >/dev/null
    c1=$(ticks "$pid")
    row+=($(python3 - "$WORK/m.json" $((c1 - c0)) "$(getconf CLK_TCK)" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
ios = sum(j[s]["total_ios"] for s in ("read", "write"))
print(int(sum(j[s]["iops"] for s in ("read", "write"))), "%.1f" % (int(sys.argv[2]) * 1e6 / int(sys.argv[3]) / ios))
PY
))
  done
  for _ in 1 2 3; do
    t0=$(date +%s.%N); "${HOST[@]}" nbdcopy "$WORK/in.bin" "$uri"; t1=$(date +%s.%N)
  done
  "${HOST[@]}" nbdcopy "$uri" "$WORK/out.bin"
  cmp -n $((SIZE_MIB << 20)) "$WORK/in.bin" "$WORK/out.bin" >/dev/null || { echo "$label: nbdcopy read back other bytes" >&2; exit 1; }
  rm -f "$WORK/out.bin"
  row+=("$(python3 -c "print(int($SIZE_MIB * 1.048576 / ($t1 - $t0)))")")
  echo "${row[*]}" >>"$WORK/results"
  printf '%-18s randrw qd32 %6d IOPS, %5.1f us CPU a request | randread qd64 %6d IOPS, %5.1f us | nbdcopy in %4d MB/s\n' \
    "$label" "${row[@]:1}"
}

echo "the host's share: donors on CPU 1, the export's server, fio and nbdcopy on CPU 0; $SECS s a measure," \
  "$SIZE_MIB MiB, $(date -u +%F)"
NP=$(free_port)
"${HOST[@]}" nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$NP" memory "${SIZE_MIB}M" >"$WORK/nbdkit.log" 2>&1 &
PIDS+=($!)
sleep 1
"${HOST[@]}" fio --name=fill --ioengine=nbd --uri="nbd://127.0.0.1:$NP" --rw=write --bs=1m --iodepth=4 \
  --size="${SIZE_MIB}m" --output=/dev/null
run nbdkit "nbd://127.0.0.1:$NP" "${PIDS[0]}"
kill "${PIDS[0]}"; PIDS=()

start_donors share "$WORK"
for R in $COPIES; do
  AP=$(free_port)
  "${HOST[@]}" ./pagepool agent --nodes "$NODES" --size "${SIZE_MIB}m" --disk "$WORK/swap$R.img" --state "$WORK/state$R" \
    --nbd "127.0.0.1:$AP" --http "127.0.0.1:$(free_port)" --replicas "$R" >"$WORK/agent$R.log" 2>&1 &
  APID=$!
  await_agent "$WORK/agent$R.log"
  URI="nbd://127.0.0.1:$AP/pagepool"
  "${HOST[@]}" fio --name=fill --ioengine=nbd --uri="$URI" --rw=write --bs=1m --iodepth=4 --size="${SIZE_MIB}m" \
    --output=/dev/null
  # Warmed on the measured loads until the JVMs' compilers are quiet, not counted.
  settle_jit 8 "$APID ${PIDS[*]:0:3}" "${HOST[@]}" fio --name=warm --ioengine=nbd --uri="$URI" --rw=randrw --bs=4k \
    --iodepth=32 --size="${SIZE_MIB}m" --time_based --runtime=5 --output=/dev/null
  run "pagepool-$R" "$URI" "$APID"
  kill "$APID"; wait "$APID" 2>/dev/null || true
done

python3 - "$WORK/results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
base = [float(v) for v in rows[0][1:]]
print("\nagainst nbdkit memory (IOPS and MB/s: higher is better; CPU a request: lower is better)")
for r in rows[1:]:
    f = [float(v) for v in r[1:]]
    n = r[0].split("-")[1]
    print("pagepool, %s cop%-3s randrw qd32 %.2fx, randread qd64 %.2fx, CPU a request %.2fx and %.2fx, nbdcopy in %.2fx"
          % (n, "y" if n == "1" else "ies", f[0] / base[0], f[2] / base[2], f[1] / base[1], f[3] / base[3], f[4] / base[4]))
PY
