#!/usr/bin/env bash
# Two agents on one cluster of 3 donors, each with its own options, measured in turns: fio 4k randread and
# randwrite (or randrw) on each export, ROUNDS times, alternating A and B, so both meet the same donors and the
# same machine. Prints each round's p50 and the medians of p50, p99, p99.9 and IOPS.
# Usage: bench/agent-ab.sh ROUNDS SECONDS REPLICAS QD "AGENT OPTIONS A" "AGENT OPTIONS B" [FIO MODES]
#   e.g. bench/agent-ab.sh 5 5 2 1 "--spin-micros 0" "--spin-micros 50"
#        bench/agent-ab.sh 4 6 2 32 "--spin-micros 0" "--spin-micros 50" randrw
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:?rounds}"; SECS="${2:?seconds}"; R="${3:?replicas}"; QD="${4:?queue depth}"
declare -A ARGS=([A]="${5?options of A}" [B]="${6?options of B}")
MODES="${7:-randread randwrite}"
command -v fio >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio >/dev/null; }
. bench/cluster.sh
build_here
bench_work
start_donors ab "$WORK"
declare -A URI
for x in A B; do
  AP=$(free_port); HP=$(free_port)
  # shellcheck disable=SC2086
  ./pagepool agent --nodes "$NODES" --size 256m --disk "$WORK/swap$x.img" --state "$WORK/state$x" --nbd "127.0.0.1:$AP" \
    --http "127.0.0.1:$HP" --replicas "$R" ${ARGS[$x]} >"$WORK/agent$x.log" 2>&1 &
  PIDS+=($!)
  await_agent "$WORK/agent$x.log"
  URI[$x]="nbd://127.0.0.1:$AP/pagepool"
  fill_and_warm "${URI[$x]}"
done
for r in $(seq "$ROUNDS"); do for x in A B; do for rw in $MODES; do
  fio --name=m --ioengine=nbd --uri="${URI[$x]}" --rw="$rw" --bs=4k --iodepth="$QD" --size=256m --time_based \
    --runtime="$SECS" --output-format=json --output="$WORK/$x-$rw-$r.json" >/dev/null
done; done; done
PYTHONPATH=bench python3 - "$WORK" "$ROUNDS" "$QD" "${ARGS[A]}" "${ARGS[B]}" $MODES <<'PY'
import sys, statistics as st
from fio_rounds import per_round
work, rounds, qd, opts = sys.argv[1], int(sys.argv[2]), sys.argv[3], {"A": sys.argv[4], "B": sys.argv[5]}
for rw in sys.argv[6:]:
    for x in "AB":
        p50, p99, p999, iops = per_round(work, x, rw, rounds)
        print("%-9s qd%-3s %s (%s): p50 per round %s; medians p50 %d, p99 %d, p99.9 %d us, %d IOPS" % (
            rw, qd, x, opts[x], [int(v) for v in p50], st.median(p50), st.median(p99), st.median(p999), st.median(iops)))
PY
