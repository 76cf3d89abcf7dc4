# Sourced by the bench scripts: a scratch directory, a free port on 127.0.0.1, and three donors in one Hazelcast
# cluster on it.
# bench_work: makes the scratch directory WORK and an empty PIDS; on exit, every process in PIDS is killed and WORK
# removed.
# start_donors NAME DIR: starts donors NAME-0..2 (2 GiB each, logs in DIR), waits until each is ready, appends
# their pids to PIDS and sets NODES to their data endpoints, comma-separated.

bench_work() {
  WORK="$(mktemp -d)"
  PIDS=()
  trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$WORK"' EXIT
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_donors() {
  local name="$1" dir="$2" i d h
  local hz=("$(free_port)" "$(free_port)" "$(free_port)")
  local members="127.0.0.1:${hz[0]},127.0.0.1:${hz[1]},127.0.0.1:${hz[2]}"
  NODES=""
  for i in 0 1 2; do
    d=$(free_port); h=$(free_port)
    ./pagepool node --data-port "$d" --http-port "$h" --capacity 2g --members "$members" --hz-port "${hz[$i]}" \
      --name "$name-$i" >"$dir/donor$i.log" 2>&1 &
    PIDS+=($!)
    NODES="$NODES${NODES:+,}127.0.0.1:$d"
    for _ in $(seq 150); do curl -sf "http://127.0.0.1:$h/q/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
  done
}
