#!/usr/bin/env bash
# What a user of pooled swap feels: the kernel swap test's guest (QEMU TCG, a Linux that swaps about 2.5x its RAM
# onto an NBD export and verifies every page) run once against `nbdkit memory`, once against the pagepool agent
# with 1 copy and once with 2 copies of each page (3 donors on 127.0.0.1), in one run on this machine. Prints the
# test program's time, the guest's pswpout and the ratio pagepool / nbdkit.
# Usage: bench/kernel-swap.sh [GUEST_MIB]   (default 160; needs what .ci/run installs for the kernel tests)
set -euo pipefail
cd "$(dirname "$0")/.."
GUEST_MIB="${1:-160}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  mkdir -p /tmp/pagepool-kernel-swap-bench-logs
  cp "$WORK"/*.log /tmp/pagepool-kernel-swap-bench-logs/ 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for t in qemu-system-x86_64 nbdkit gcc curl python3; do
  command -v "$t" >/dev/null || { echo "kernel-swap: $t is missing; .ci/run lists the packages to install" >&2; exit 1; }
done
# Builds the jars and the test classes (the guest's harness) in place; installs nothing into ~/.m2.
./mvnw -B -q -DskipTests package >/dev/null
CP="e2e/target/test-classes"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

boot() {   # $1 label, $2 port, $3 export name
  local label="$1" out="$WORK/guest-$(echo "$1" | tr -c 'a-z0-9' '-').log"
  if ! java -Dpagepool.guest.memory="$GUEST_MIB" -cp "$CP" dev.pagepool.e2e.kernel.Guest "$2" "$3" >"$out" 2>&1; then
    echo "$label: the guest did not verify every page:" >&2
    cat "$out" >&2
    exit 1
  fi
  local s; s=$(grep '^SUMMARY ' "$out")
  local secs pswpout
  secs=$(sed -n 's/.*program \([0-9.]*\) s.*/\1/p' <<<"$s")
  pswpout=$(sed -n 's/.* pswpout=\([0-9]*\) .*/\1/p' <<<"$s")
  echo "$label|$secs|$pswpout" >>"$WORK/results"
  printf '%-22s program %6.1f s | pswpout %7d (%4d MiB) | %s\n' "$label" "$secs" "$pswpout" $((pswpout * 4 / 1024)) \
    "$(sed -n 's/^SUMMARY RESULT \([a-zA-Z]*\).*/\1/p' <<<"$s")"
}

# ---- nbdkit memory
NP=$(free_port)
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$NP" memory 1G >"$WORK/nbdkit.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$NP") 2>/dev/null && break; sleep 0.2; done
boot "nbdkit memory" "$NP" ""
kill "${PIDS[-1]}" 2>/dev/null || true

# ---- pagepool: 3 donors in one Hazelcast cluster, then an agent with 1 and with 2 copies
HZ=("$(free_port)" "$(free_port)" "$(free_port)")
MEMBERS="127.0.0.1:${HZ[0]},127.0.0.1:${HZ[1]},127.0.0.1:${HZ[2]}"
for i in 0 1 2; do
  D=$(free_port); H=$(free_port)
  ./pagepool node --data-port "$D" --http-port "$H" \
    --capacity 768m --members "$MEMBERS" --hz-port "${HZ[$i]}" --name "kswap-bench-$i" >"$WORK/donor$i.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$H/q/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
done
for R in 1 2; do
  AP=$(free_port)
  ./pagepool agent --members "$MEMBERS" --size 1g --disk "$WORK/swap$R.img" --state "$WORK/state$R" \
    --nbd "127.0.0.1:$AP" --replicas "$R" >"$WORK/agent$R.log" 2>&1 &
  APID=$!
  PIDS+=($APID)
  await_agent "$WORK/agent$R.log" 300
  boot "pagepool, $R cop$([ "$R" = 1 ] && echo y || echo ies)" "$AP" pagepool
  kill "$APID"; wait "$APID" 2>/dev/null || true
done

python3 - "$WORK/results" <<'PY'
import sys
rows = [l.strip().split("|") for l in open(sys.argv[1])]
base = float(rows[0][1])
print("\nratio pagepool / nbdkit memory of the test program's time (lower is better)")
for label, secs, pswpout in rows[1:]:
    print("%-22s %.2fx" % (label, float(secs) / base))
PY
