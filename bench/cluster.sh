# Sourced by the bench scripts: a scratch directory, a free port on 127.0.0.1, and three donors in one Hazelcast
# cluster on it.
# bench_work: makes the scratch directory WORK and an empty PIDS; on exit, every process in PIDS is killed and WORK
# removed.
# start_donors NAME DIR: starts donors NAME-0..2 (2 GiB each, logs in DIR), waits until each is ready, appends
# their pids to PIDS, sets NODES to their data endpoints, comma-separated, and DONOR_HTTP to their HTTP ports. With
# DONOR_CPUS set (a taskset CPU list), the donors run on those CPUs only.
# start_lone_donor JAR DIR: one donor of the build JAR, in no cluster (3 GiB budget, 512 MiB heap, log DIR/donor.log);
# waits until it is ready, appends its pid to PIDS and sets DATA and HTTP to its ports. LONE_DONOR_OPTS: more JVM
# options for it.
# start_redis DIR: a Redis with no persistence on a free port (log DIR/redis.log); appends its pid to PIDS and sets
# RPORT and RPID.
# build_here: builds this checkout with the reactor (./mvnw package, tests skipped): the donor's quarkus-app, the
# agent's shaded jar and the end-to-end test classes, with the class path of those in E2E_CP. Installs nothing into
# ~/.m2 and reads no pagepool module from it, so a fresh clone, or one built with ./mvnw package, is enough, and
# modules another checkout installed there are never measured.
# ensure_built: build_here unless both jars are there. ensure_redis: installs redis-server and redis-tools if missing.
# fill_and_warm URI: writes every block of a 256 MiB export at URI once, then warms the agent's JIT on the loads the
# scripts measure (randrw at depth 32, then at depth 1), unmeasured.
# json_field JSON KEY: the number under KEY in a one-line JSON object, or nothing.
# donor_frames PORT...: "PUT frames, pages put, GET frames, pages got" summed over the donors whose HTTP ports are
# given (their /q/metrics): how many pages a donor's frame carried.
# jit_seconds PID...: the seconds the JVMs among PID... have spent compiling, added (jstat -compiler; 0 for others).
# settle_jit MAX "PID..." CMD...: runs CMD, a bounded warm-up, until one run in which those JVMs together compiled
# for less than 5% of its time, at most MAX times; prints how many ran and whether the last settled. On two cores a
# fresh JVM's C2 lags a load by many seconds, and a figure measured meanwhile is partly the compiler's.

bench_work() {
  WORK="$(mktemp -d)"
  PIDS=()
  trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$WORK"' EXIT
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || shuf -i 20000-60000 -n 1; }

build_here() {
  # dependency:build-classpath runs in each module after its package phase, so the modules it lists are this
  # reactor's own jars; its relative outputFile lands in each module's target/.
  ./mvnw -B -q -DskipTests package dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench.classpath
  E2E_CP="e2e/target/test-classes:$(cat e2e/target/bench.classpath)"
}

ensure_built() {
  [ -f client-agent/agent/target/pagepool-agent-0.1.0-SNAPSHOT-all.jar ] && [ -f node/target/quarkus-app/quarkus-run.jar ] \
    || build_here
}

# Waits until the agent whose log is $1 serves its export, polling every 0.2 s at most $2 times (150: 30 s); an
# agent that does not is a failed run: its log is shown and the script stops.
await_agent() {
  for _ in $(seq "${2:-150}"); do grep -qs "serving nbd://" "$1" && return 0; sleep 0.2; done
  cat "$1" >&2
  echo "the agent did not serve its export (log above)" >&2
  exit 1
}

fill_and_warm() {
  fio --name=fill --ioengine=nbd --uri="$1" --rw=write --bs=1m --iodepth=4 --size=256m --output=/dev/null
  fio --name=warm --ioengine=nbd --uri="$1" --rw=randrw --bs=4k --iodepth=32 --size=256m --time_based \
    --runtime=8 --output=/dev/null
  fio --name=warm --ioengine=nbd --uri="$1" --rw=randrw --bs=4k --iodepth=1 --size=256m --time_based \
    --runtime=5 --output=/dev/null
}

ensure_redis() {
  if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
  fi
}

donor_frames() {
  local h
  for h in "$@"; do curl -sf "http://127.0.0.1:$h/q/metrics" || true; done | awk '
    /^pagepool_request_seconds_count/ && /op="put"/ { pf += $2 }
    /^pagepool_request_seconds_count/ && /op="get"/ { gf += $2 }
    /^pagepool_puts_total/ { pp += $2 }
    /^pagepool_gets_total/ { gp += $2 }
    END { printf "%d %d %d %d\n", pf, pp, gf, gp }'
}

json_field() { { grep -o "\"$2\":[0-9.-]*" <<<"$1" || true; } | head -1 | cut -d: -f2; }

jit_seconds() {
  local p s=0 t
  for p in "$@"; do
    t=$(jstat -compiler "$p" 2>/dev/null | awk 'NR == 2 { print $4 }') || true
    s=$(awk -v s="$s" -v t="${t:-0}" 'BEGIN { print s + t }')
  done
  echo "$s"
}

settle_jit() {
  local max="$1" pids="$2" i j0 t0 j1 t1
  shift 2
  for i in $(seq "$max"); do
    j0=$(jit_seconds $pids); t0=$(date +%s.%N)
    "$@"
    j1=$(jit_seconds $pids); t1=$(date +%s.%N)
    if awk -v j=$j1 -v i=$j0 -v t=$t1 -v s=$t0 'BEGIN { exit !(j - i < 0.05 * (t - s)) }'; then
      echo "warm-up: $i round(s), settled"
      return 0
    fi
  done
  echo "warm-up: $max round(s), NOT settled: the figures below include the compilers' CPU"
}

start_redis() {
  RPORT=$(free_port)
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$1/redis.log" 2>&1 &
  RPID=$!
  PIDS+=("$RPID")
  sleep 1
}

start_lone_donor() {
  DATA=$(free_port); HTTP=$(free_port)
  java -Xms512m -Xmx512m -XX:MaxDirectMemorySize=4g -XX:+UseParallelGC ${LONE_DONOR_OPTS:-} -Dpagepool.cluster.enabled=false \
    -Dpagepool.node.data-port="$DATA" -Dquarkus.http.port="$HTTP" -Dpagepool.node.capacity=3g \
    -jar "$1" >"$2/donor.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$HTTP/q/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
}

start_donors() {
  local name="$1" dir="$2" i d h
  local hz=("$(free_port)" "$(free_port)" "$(free_port)")
  local members="127.0.0.1:${hz[0]},127.0.0.1:${hz[1]},127.0.0.1:${hz[2]}"
  NODES=""
  DONOR_HTTP=""
  for i in 0 1 2; do
    d=$(free_port); h=$(free_port)
    ${DONOR_CPUS:+taskset -c "$DONOR_CPUS"} ./pagepool node --data-port "$d" --http-port "$h" --capacity 2g --members "$members" --hz-port "${hz[$i]}" \
      --name "$name-$i" >"$dir/donor$i.log" 2>&1 &
    PIDS+=($!)
    NODES="$NODES${NODES:+,}127.0.0.1:$d"
    DONOR_HTTP="$DONOR_HTTP${DONOR_HTTP:+ }$h"
    for _ in $(seq 150); do curl -sf "http://127.0.0.1:$h/q/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
  done
}
