#!/usr/bin/env bash
# Measures pagepool against the systems a user would otherwise pick, in one run on this machine:
# Redis (redis-benchmark, pipelined and single-client) and a Hazelcast IMap<Long, byte[]> (client JVM to
# member JVM), all with 4 KiB values on 127.0.0.1. Prints each figure and pagepool's ratio to the peer, and the CPU
# each spends per page (utime + stime of every process involved; for CPU a ratio below 1 is better).
# Usage: bench/peers.sh [pages]     (needs: redis-server and redis-tools from Debian; installs them if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
PAGES="${1:-300000}"
LAT_PAGES=20000
source bench/cluster.sh
bench_work
ensure_redis
build_here

# ---- pagepool donor
start_lone_donor node/target/quarkus-app/quarkus-run.jar "$WORK"
grep -o "lz4 LZ4Factory:[A-Za-z]*" "$WORK/donor.log" | head -1 || true
pp() { ./pagepool bench --nodes "127.0.0.1:$DATA" --json "$@" | tail -1; }
# Each run warms its own JVM first (--warmup, not measured): the JIT's CPU is not a cost per page. The warm-up runs
# in rounds until one passes in which the compilers of the client and the donor were nearly idle (at most 10; the
# JSON says how many ran, whether the last was settled, and jit_ms_measured, the compilers' time during the
# measured run). The batched runs warm up with as many pages a round as they measure, so the donor's arena has
# grown to hold them: the figures are those of a donor in steady state, whose memory comes and goes inside an
# arena it already holds. Redis's SET is measured the same way, after a pass that grew its memory. The first fill
# of fresh memory, on both sides, is dominated by page faults on a VM where they are slow: see BENCHMARKS.md.
# Redis's -c 1 SET runs after its memory grew.
PP_SYNC=$(pp --pages "$LAT_PAGES" --batch 1 --threads 1 --warmup "$LAT_PAGES")
PP_B0=$(pp --pages "$PAGES" --batch 64 --threads 4 --compressible 0 --warmup "$PAGES")
PP_B5=$(pp --pages "$PAGES" --batch 64 --threads 4 --compressible 0.5 --warmup "$PAGES")
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true

# ---- Redis 7 (no persistence: a cache, like an ephemeral pool)
start_redis "$WORK"
rb() { redis-benchmark -h 127.0.0.1 -p "$RPORT" -d 4096 -r "$PAGES" --csv "$@" 2>/dev/null; }
proc_cpu_ns() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1e9 / hz }' "/proc/$1/stat"; }
# One pipelined test; its CSV lands in $WORK/rb-$1.csv and its CPU per request (redis-server and
# redis-benchmark together, in us) in $WORK/rb-$1.cpu.
rb_pipe() {
  local t="$1" s0 s1
  s0=$(proc_cpu_ns "$RPID")
  TIMEFORMAT='%U %S'
  { time rb -t "$t" -c 50 -P 16 -n "$PAGES" >"$WORK/rb-$t.csv"; } 2>"$WORK/rb-$t.time"
  s1=$(proc_cpu_ns "$RPID")
  read -r u sy <"$WORK/rb-$t.time"
  awk -v s=$((s1 - s0)) -v u="$u" -v sy="$sy" -v n="$PAGES" 'BEGIN { printf "%.2f", (s / 1000 + (u + sy) * 1e6) / n }' \
    >"$WORK/rb-$t.cpu"
}
rb_pipe set
cp "$WORK/rb-set.csv" "$WORK/rb-set-fresh.csv"
rb_pipe set   # measured: the keys exist, their memory is Redis's already
R_SYNC=$(rb -t set,get -c 1 -n "$LAT_PAGES")
rb_pipe get
R_PIPE=$(cat "$WORK/rb-set.csv" "$WORK/rb-get.csv")
redis-cli -p "$RPORT" shutdown nosave >/dev/null 2>&1 || true
rcol() { grep "^\"$2\"" <<<"$1" | tr -d '"' | cut -d, -f"$3"; }   # rps=2 p50=5 p99=7 (ms)

# ---- Hazelcast IMap
# On a plain class path (build_here's): the member JVM it starts reuses this JVM's class path.
HZ=$(java -Xmx2g -cp "$E2E_CP" dev.pagepool.bench.ImapPeerBenchmark \
  --pages "$PAGES" --batch 64 --threads 4 | tail -1)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
ms_to_us() { awk -v m="$1" 'BEGIN { printf "%d", m * 1000 }'; }

echo
echo "pagepool vs peers, 4 KiB pages, 127.0.0.1, $(nproc) cores, $(date -u +%F)"
printf '%-58s %12s %12s %10s\n' "figure" "pagepool" "peer" "ratio"
printf '%-58s %12s %12s %10s\n' "single client sync put p50 / p99 (us) vs redis -c 1 SET" \
  "$(json_field "$PP_SYNC" p50_us_put)/$(json_field "$PP_SYNC" p99_us_put)" \
  "$(ms_to_us "$(rcol "$R_SYNC" SET 5)")/$(ms_to_us "$(rcol "$R_SYNC" SET 7)")" "-"
printf '%-58s %12s %12s %10s\n' "single client sync get p50 / p99 (us) vs redis -c 1 GET" \
  "$(json_field "$PP_SYNC" p50_us_get)/$(json_field "$PP_SYNC" p99_us_get)" \
  "$(ms_to_us "$(rcol "$R_SYNC" GET 5)")/$(ms_to_us "$(rcol "$R_SYNC" GET 7)")" "-"
for c in 0 5; do
  v=PP_B$c; PP="${!v}"
  printf '%-58s %12s %12s %10s\n' "batched put pages/s (batch 64, compressible 0.$c) vs redis -P 16 SET" \
    "$(json_field "$PP" ops_per_sec_put)" "$(rcol "$R_PIPE" SET 2 | cut -d. -f1)" \
    "$(ratio "$(json_field "$PP" ops_per_sec_put)" "$(rcol "$R_PIPE" SET 2)")"
  printf '%-58s %12s %12s %10s\n' "batched get pages/s (batch 64, compressible 0.$c) vs redis -P 16 GET" \
    "$(json_field "$PP" ops_per_sec_get)" "$(rcol "$R_PIPE" GET 2 | cut -d. -f1)" \
    "$(ratio "$(json_field "$PP" ops_per_sec_get)" "$(rcol "$R_PIPE" GET 2)")"
done
printf '%-58s %12s %12s %10s\n' "  (redis -P 16 SET into fresh memory, its first pass)" "" \
  "$(rcol "$(cat "$WORK/rb-set-fresh.csv")" SET 2 | cut -d. -f1)" ""
printf '%-58s %12s %12s %10s\n' "CPU us per page put (client+donor) vs redis SET (server+bench)" \
  "$(json_field "$PP_B0" cpu_us_per_page_put)" "$(cat "$WORK/rb-set.cpu")" \
  "$(ratio "$(json_field "$PP_B0" cpu_us_per_page_put)" "$(cat "$WORK/rb-set.cpu")")"
printf '%-58s %12s %12s %10s\n' "CPU us per page get (client+donor) vs redis GET (server+bench)" \
  "$(json_field "$PP_B0" cpu_us_per_page_get)" "$(cat "$WORK/rb-get.cpu")" \
  "$(ratio "$(json_field "$PP_B0" cpu_us_per_page_get)" "$(cat "$WORK/rb-get.cpu")")"
printf '%-58s %12s %12s %10s\n' "batched put pages/s vs hazelcast imap putAll(64)" \
  "$(json_field "$PP_B0" ops_per_sec_put)" "$(json_field "$HZ" ops_per_sec_put)" \
  "$(ratio "$(json_field "$PP_B0" ops_per_sec_put)" "$(json_field "$HZ" ops_per_sec_put)")"
printf '%-58s %12s %12s %10s\n' "batched get pages/s vs hazelcast imap getAll(64)" \
  "$(json_field "$PP_B0" ops_per_sec_get)" "$(json_field "$HZ" ops_per_sec_get)" \
  "$(ratio "$(json_field "$PP_B0" ops_per_sec_get)" "$(json_field "$HZ" ops_per_sec_get)")"
printf '%-58s %12s %12s %10s\n' "single client sync put p50 / p99 (us) vs hazelcast imap set" \
  "$(json_field "$PP_SYNC" p50_us_put)/$(json_field "$PP_SYNC" p99_us_put)" \
  "$(json_field "$HZ" p50_us_put)/$(json_field "$HZ" p99_us_put)" "-"
printf '%-58s %12s %12s %10s\n' "single client sync get p50 / p99 (us) vs hazelcast imap get" \
  "$(json_field "$PP_SYNC" p50_us_get)/$(json_field "$PP_SYNC" p99_us_get)" \
  "$(json_field "$HZ" p50_us_get)/$(json_field "$HZ" p99_us_get)" "-"
for run in SYNC B0 B5; do
  v=PP_$run; PP="${!v}"
  printf '%-58s %12s\n' "pagepool $run: warm-up rounds / settled (1) / JIT ms measured" \
    "$(json_field "$PP" warmup_rounds)/$(json_field "$PP" warmup_settled)/$(json_field "$PP" jit_ms_measured)"
done
echo
echo "raw: pagepool sync $PP_SYNC"
echo "raw: pagepool batch c=0 $PP_B0"
echo "raw: pagepool batch c=0.5 $PP_B5"
echo "raw: hazelcast $HZ"
