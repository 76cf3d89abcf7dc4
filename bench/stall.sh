#!/usr/bin/env bash
# The read stall a page fault sees while every donor pauses: fio 4k random reads at queue depth 1 on the export
# (3 donors, 2 copies of each page), and every donor frozen together (SIGSTOP) for PAUSE_MS in the middle of the
# run, then thawed (SIGCONT): a network blip, a switch reboot, a GC pause of them all. Prints fio's latency
# percentiles and its slowest read, the pause, and how many reads failed (none may).
# Usage: bench/stall.sh [PAUSE_MS] [SECONDS]   (needs fio and nbdcopy; installs them if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
PAUSE_MS="${1:-2000}"
SECS="${2:-12}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$WORK"; }
trap cleanup EXIT

need=()
command -v fio >/dev/null || need+=(fio)
command -v nbdcopy >/dev/null || need+=(libnbd-bin)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
. bench/cluster.sh
build_here

start_donors stall "$WORK"
DONORS=("${PIDS[@]}")
AP=$(free_port); HP=$(free_port)
./pagepool agent --nodes "$NODES" --size 256m --disk "$WORK/swap.img" --state "$WORK/state" --nbd "127.0.0.1:$AP" \
  --http "127.0.0.1:$HP" --replicas 2 >"$WORK/agent.log" 2>&1 &
PIDS+=($!)
await_agent "$WORK/agent.log" 300
URI="nbd://127.0.0.1:$AP/pagepool"
head -c $((256 << 20)) /dev/urandom >"$WORK/in.bin"
nbdcopy "$WORK/in.bin" "$URI"

fio --name=stall --ioengine=nbd --uri="$URI" --rw=randread --bs=4k --iodepth=1 --size=256m --time_based \
  --runtime="$SECS" --percentile_list=50:99:99.9:100 --output-format=json --output="$WORK/fio.json" &
FIO=$!
sleep $((SECS / 3))
kill -STOP "${DONORS[@]}"
sleep "$(python3 -c "print($PAUSE_MS/1000)")"
kill -CONT "${DONORS[@]}"
wait "$FIO"
python3 - "$WORK/fio.json" "$PAUSE_MS" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
r = j["read"]; p = r["clat_ns"]["percentile"]
print("every donor paused %s ms during %d s of 4k random reads at qd1 (3 donors, 2 copies):" % (sys.argv[2], j["job_runtime"] // 1000))
print("  reads %d, fio error %d (0: no read failed)" % (r["total_ios"], j["error"]))
print("  p50 %d us, p99 %d us, p99.9 %d us, slowest read %.0f ms (the stall a page fault saw)" % (
    p["50.000000"] / 1000, p["99.000000"] / 1000, p["99.900000"] / 1000, r["clat_ns"]["max"] / 1e6))
PY
grep -c "suspect" "$WORK/agent.log" | xargs -I{} echo "  the agent marked donors suspect {} time(s); extents lost: $(grep -c 'lost their last copy' "$WORK/agent.log" || true)"
