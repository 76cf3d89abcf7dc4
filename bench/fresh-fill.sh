#!/usr/bin/env bash
# A donor that starts empty, filled by one synchronous client, against a Redis that starts empty, filled the same
# way (redis-benchmark -c 1, SET of 4 KiB values): p50, p99, p99.9 and the slowest request. The donor's arena grows
# 32 MiB at a time, Redis's memory as it allocates; either way fresh pages are faulted in, which is slow on a small
# VM. Also prints the donor's arena_inline_growths: growths that found no chunk zeroed ahead and zeroed their own
# inside a put. Usage: bench/fresh-fill.sh [PAGES] [DONOR_JAR]
# DONOR_JAR: another build's node/target/quarkus-app/quarkus-run.jar, to compare donors with the same client.
# THP=1: transparent huge pages for both, for this run only: the system's setting set to "always" (what an
# madvise(MADV_HUGEPAGE) on the donor's arenas would give them; Redis's allocations get them too) and the donor's
# heap on them (-XX:+UseTransparentHugePages); the setting is put back on exit. Needs root.
# Needs redis-server and redis-tools from Debian; installs them if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PAGES="${1:-100000}"
JAR="${2:-node/target/quarkus-app/quarkus-run.jar}"
WARMUP=20000
source bench/cluster.sh
bench_work
THP_FILE=/sys/kernel/mm/transparent_hugepage/enabled
if [ "${THP:-0}" = 1 ]; then
  THP_WAS=$(grep -o '\[[a-z]*\]' "$THP_FILE" | tr -d '[]')
  trap 'echo "$THP_WAS" >"$THP_FILE"; for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$WORK"' EXIT
  echo always >"$THP_FILE"
  export LONE_DONOR_OPTS="-XX:+UseTransparentHugePages"
fi
ensure_redis
ensure_built
start_lone_donor "$JAR" "$WORK"
# The client's JIT warms up first on a pool of its own (--warmup), whose memory the measured pages reuse before
# they grow the arena: the measured run faults in (PAGES - WARMUP) pages of fresh memory.
PP=$(./pagepool bench --nodes "127.0.0.1:$DATA" --pages "$PAGES" --batch 1 --threads 1 --warmup "$WARMUP" --json | tail -1)
STATS=$(curl -sf "http://127.0.0.1:$HTTP/admin/stats" || echo '{}')
HUGE=$(awk '/^AnonHugePages/ { print int($2 / 1024) }' "/proc/${PIDS[0]}/smaps_rollup")
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true

start_redis "$WORK"
R=$(redis-benchmark -h 127.0.0.1 -p "$RPORT" -d 4096 -r "$PAGES" --csv -t set -c 1 -n "$PAGES" 2>/dev/null | grep '^"SET"' | tr -d '"')
redis-cli -p "$RPORT" shutdown nosave >/dev/null 2>&1 || true
ms_to_us() { awk -v v="$1" 'BEGIN { printf "%d", v * 1000 }'; }
R_P50=$(ms_to_us "$(cut -d, -f5 <<<"$R")"); R_P99=$(ms_to_us "$(cut -d, -f7 <<<"$R")"); R_MAX=$(ms_to_us "$(cut -d, -f8 <<<"$R")")

P50=$(json_field "$PP" p50_us_put); P99=$(json_field "$PP" p99_us_put); P999=$(json_field "$PP" p999_us_put)
MAX=$(json_field "$PP" max_us_put)
INLINE=$(json_field "$STATS" arena_inline_growths); ARENA=$(json_field "$STATS" arena_bytes)
echo "fresh fill, 1 synchronous client, $PAGES puts of 4 KiB ($WARMUP of them into memory the warm-up left), $(nproc) cores, $(date +%F), transparent huge pages: $(grep -o '\[[a-z]*\]' "$THP_FILE")"
echo "pagepool ($JAR): p50 $P50 us, p99 $P99 us, p99.9 $P999 us, max $MAX us; arena $((${ARENA:-0} >> 20)) MiB," \
  "growths that zeroed their own chunk: ${INLINE:-not reported by this donor}; the donor's memory on huge pages: $HUGE MiB"
echo "redis -c 1 SET:  p50 $R_P50 us, p99 $R_P99 us, max $R_MAX us"
awk -v a="$P50" -v b="$R_P50" -v c="$P99" -v d="$R_P99" -v e="$MAX" -v f="$R_MAX" \
  'BEGIN { printf "ratio pagepool / redis: p50 %.2fx, p99 %.2fx, max %.2fx\n", a / b, c / d, e / f }'
