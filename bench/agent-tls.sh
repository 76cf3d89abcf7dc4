#!/usr/bin/env bash
# What TLS costs on the agent's NBD path, in one run: two lone donors, one plain and one with TLS on its data port
# (the test certificates of src/test/resources/tls), an agent on each (1 copy; the TLS one with --tls-ca and host
# name verification), and fio on each export in turns, ROUNDS times: 4k randread and randwrite at queue depth 1 (a
# page fault's latency) and 4k randrw at depth 32. Prints each side's medians of p50, p99, p99.9 and IOPS and the
# TLS/plain ratios. Usage: bench/agent-tls.sh [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"; SECS="${2:-5}"
command -v fio >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio >/dev/null; }
. bench/cluster.sh
build_here
bench_work
TLS_DIR=src/test/resources/tls
TOKEN=agent-tls-bench-token-0123456789
NODE_JAR=node/target/quarkus-app/quarkus-run.jar

# start_donor NAME [JAVA OPTIONS...]: a lone donor; sets DATA to its data port.
start_donor() {
  local name="$1" h
  shift
  DATA=$(free_port); h=$(free_port)
  java -Xms512m -Xmx512m -XX:MaxDirectMemorySize=2g -Dpagepool.cluster.enabled=false -Dpagepool.node.data-port="$DATA" \
    -Dquarkus.http.port="$h" -Dpagepool.node.capacity=1g -Dpagepool.auth.token="$TOKEN" "$@" -jar "$NODE_JAR" \
    >"$WORK/donor-$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$h/q/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
}

# start_agent NAME DATA-PORT [AGENT OPTIONS...]: an agent on that donor, its export filled once and warmed up.
declare -A URI
start_agent() {
  local name="$1" data="$2" ap hp
  shift 2
  ap=$(free_port); hp=$(free_port)
  PAGEPOOL_TOKEN="$TOKEN" ./pagepool agent --nodes "127.0.0.1:$data" --size 256m --disk "$WORK/swap-$name.img" \
    --state "$WORK/state-$name" --nbd "127.0.0.1:$ap" --http "127.0.0.1:$hp" --replicas 1 "$@" \
    >"$WORK/agent-$name.log" 2>&1 &
  PIDS+=($!)
  await_agent "$WORK/agent-$name.log"
  URI[$name]="nbd://127.0.0.1:$ap/pagepool"
  fill_and_warm "${URI[$name]}"
}

start_donor plain
start_agent plain "$DATA"
start_donor tls -Dpagepool.tls.cert="$TLS_DIR/donor.pem" -Dpagepool.tls.key="$TLS_DIR/donor-key.pem"
start_agent tls "$DATA" --tls-ca "$TLS_DIR/ca.pem"

for r in $(seq "$ROUNDS"); do for x in plain tls; do
  for rw in randread randwrite; do
    fio --name=m --ioengine=nbd --uri="${URI[$x]}" --rw="$rw" --bs=4k --iodepth=1 --size=256m --time_based \
      --runtime="$SECS" --output-format=json --output="$WORK/$x-$rw-qd1-$r.json" >/dev/null
  done
  fio --name=m --ioengine=nbd --uri="${URI[$x]}" --rw=randrw --bs=4k --iodepth=32 --size=256m --time_based \
    --runtime="$SECS" --output-format=json --output="$WORK/$x-randrw-qd32-$r.json" >/dev/null
done; done

PYTHONPATH=bench python3 - "$WORK" "$ROUNDS" <<'PY'
import sys
from fio_rounds import medians
work, rounds = sys.argv[1], int(sys.argv[2])
for case in ("randread-qd1", "randwrite-qd1", "randrw-qd32"):
    plain, tls = medians(work, "plain", case, rounds), medians(work, "tls", case, rounds)
    for name, m in (("plain", plain), ("tls", tls)):
        print("%-14s %-5s p50 %5d us  p99 %6d us  p99.9 %6d us  %7d IOPS" % (case, name, m[0], m[1], m[2], m[3]))
    print("%-14s tls/plain: p50 %.2fx  p99 %.2fx  IOPS %.2fx" % (case, tls[0] / plain[0], tls[1] / plain[1],
                                                                 tls[3] / plain[3]))
PY
