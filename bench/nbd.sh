#!/usr/bin/env bash
# The NBD export against nbdkit's memory plugin, in one run on this machine: a page fault's latency (fio 4k
# random read and random write at queue depth 1: p50, p99, p99.9), fio 4k random read/write at queue depth 32,
# fio 4k random read at queue depth 64, and nbdcopy sequential MB/s in and out (a fresh server's first copy and its third), for pagepool with 1 and with 2
# copies of each page (3 donors on 127.0.0.1), for `nbdkit memory`, and for `nbdkit memory` behind one network hop
# (nbdkit's nbd plugin as a proxy in front of it: what a hop costs here, in C).
# Usage: bench/nbd.sh [SIZE_MIB] [SECONDS]   (needs fio, nbdcopy (libnbd-bin) and nbdkit; installs them if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${1:-512}"
SECS="${2:-15}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; sleep 1; mkdir -p /tmp/pagepool-nbd-bench-logs; cp "$WORK"/*.log /tmp/pagepool-nbd-bench-logs/ 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

need=()
command -v fio >/dev/null || need+=(fio)
command -v nbdcopy >/dev/null || need+=(libnbd-bin)
command -v nbdkit >/dev/null || need+=(nbdkit)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
. bench/cluster.sh
build_here
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/in.bin"

# fio JSON -> "iops p99_us" of the read or write side
fio_fig() { python3 -c '
import json,sys
j=json.load(open(sys.argv[1]))["jobs"][0]; side=j[sys.argv[2]]
print("%d %d" % (side["iops"], side["clat_ns"]["percentile"]["99.000000"]/1000))' "$1" "$2"; }
# fio JSON -> "p50_us p99_us p99.9_us" of the read or write side (completion latency: what a faulting thread waits)
fio_lat() { python3 -c '
import json,sys
p=json.load(open(sys.argv[1]))["jobs"][0][sys.argv[2]]["clat_ns"]["percentile"]
print("%d %d %d" % (p["50.000000"]/1000, p["99.000000"]/1000, p["99.900000"]/1000))' "$1" "$2"; }

copy_mbs() {   # $1 label, $2 uri -> "MB/s in, MB/s out" of one nbdcopy each way into $WORK/copy, the bytes checked
  local t0 t1 t2
  t0=$(date +%s.%N); nbdcopy "$WORK/in.bin" "$2"; t1=$(date +%s.%N); nbdcopy "$2" "$WORK/out.bin"; t2=$(date +%s.%N)
  cmp -n $((SIZE_MIB << 20)) "$WORK/in.bin" "$WORK/out.bin" >/dev/null || { echo "$1: nbdcopy read back different bytes" >&2; exit 1; }
  rm -f "$WORK/out.bin"
  python3 -c "print(int($SIZE_MIB*1.048576/($t1-$t0)), int($SIZE_MIB*1.048576/($t2-$t1)))" >"$WORK/copy"
}

measure() {   # $1 label, $2 uri
  local label="$1" uri="$2"
  # Warm-up (the JIT of a fresh agent JVM: 5 s left its C2 compiler at a sixth of the CPU), not counted.
  fio --name=warm --ioengine=nbd --uri="$uri" --rw=randrw --bs=4k --iodepth=32 --size="${SIZE_MIB}m" \
    --time_based --runtime=10 --verify_state_save=0 --output=/dev/null >/dev/null
  # nbdcopy three times in and out: the first is what a freshly started server does (the agent's JIT has not met
  # large requests yet, the donors' arenas are fresh memory); the third is the steady state, the figure compared.
  local cin0 cout0 cin cout
  copy_mbs "$label" "$uri"; read -r cin0 cout0 <"$WORK/copy"
  copy_mbs "$label" "$uri"
  copy_mbs "$label" "$uri"; read -r cin cout <"$WORK/copy"
  fio --name=rw --ioengine=nbd --uri="$uri" --rw=randrw --bs=4k --iodepth=32 --size="${SIZE_MIB}m" \
    --time_based --runtime="$SECS" --verify_state_save=0 --output-format=json --output="$WORK/rw.json" >/dev/null
  fio --name=rr --ioengine=nbd --uri="$uri" --rw=randread --bs=4k --iodepth=64 --size="${SIZE_MIB}m" \
    --time_based --runtime="$SECS" --verify_state_save=0 --output-format=json --output="$WORK/rr.json" >/dev/null
  fio --name=qd1r --ioengine=nbd --uri="$uri" --rw=randread --bs=4k --iodepth=1 --size="${SIZE_MIB}m" \
    --time_based --runtime="$SECS" --verify_state_save=0 --output-format=json --output="$WORK/qd1r.json" >/dev/null
  fio --name=qd1w --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=1 --size="${SIZE_MIB}m" \
    --time_based --runtime="$SECS" --verify_state_save=0 --output-format=json --output="$WORK/qd1w.json" >/dev/null
  read -r lr50 lr99 lr999 <<<"$(fio_lat "$WORK/qd1r.json" read)"
  read -r lw50 lw99 lw999 <<<"$(fio_lat "$WORK/qd1w.json" write)"
  echo "$label $lr50 $lr99 $lr999 $lw50 $lw99 $lw999" >>"$WORK/latency"
  printf '%-22s qd1 randread p50/p99/p99.9: %5d/%5d/%5d us | qd1 randwrite p50/p99/p99.9: %5d/%5d/%5d us\n' \
    "$label" "$lr50" "$lr99" "$lr999" "$lw50" "$lw99" "$lw999"
  read -r rwr rwr99 <<<"$(fio_fig "$WORK/rw.json" read)"
  read -r rww rww99 <<<"$(fio_fig "$WORK/rw.json" write)"
  read -r rr rr99 <<<"$(fio_fig "$WORK/rr.json" read)"
  echo "$label $((rwr + rww)) $rwr99 $rww99 $rr $rr99 $cin $cout $cin0 $cout0" >>"$WORK/results"
  printf '%-22s randrw qd32: %6d IOPS (read p99 %5d us, write p99 %5d us) | randread qd64: %6d IOPS (p99 %5d us) | nbdcopy in %4d MB/s, out %4d MB/s (first copy %4d / %4d)\n' \
    "$label" $((rwr + rww)) "$rwr99" "$rww99" "$rr" "$rr99" "$cin" "$cout" "$cin0" "$cout0"
}

# ---- nbdkit memory
NP=$(free_port)
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$NP" memory "${SIZE_MIB}M" >"$WORK/nbdkit.log" 2>&1 &
PIDS+=($!)
sleep 1
measure "nbdkit memory" "nbd://127.0.0.1:$NP"
# The same memory behind one network hop, all in C: nbdkit's nbd plugin (a proxy, libnbd) in front of it. What any
# design with a hop between the export and the RAM costs on this machine, before its own work.
HP=$(free_port)
nbdkit --foreground --exit-with-parent -i 127.0.0.1 -p "$HP" nbd hostname=127.0.0.1 port="$NP" >"$WORK/nbdkit-hop.log" 2>&1 &
PIDS+=($!)
sleep 1
measure "nbdkit one hop" "nbd://127.0.0.1:$HP"
kill "${PIDS[-1]}" "${PIDS[-2]}" 2>/dev/null || true

# ---- pagepool: 3 donors, then an agent with 1 and with 2 copies
start_donors nbd-bench "$WORK"
for R in 1 2; do
  AP=$(free_port)
  ./pagepool agent --nodes "$NODES" --size "${SIZE_MIB}m" --disk "$WORK/swap$R.img" --state "$WORK/state$R" --nbd "127.0.0.1:$AP" \
    --replicas "$R" >"$WORK/agent$R.log" 2>&1 &
  APID=$!
  await_agent "$WORK/agent$R.log"
  measure "pagepool, $R cop$([ "$R" = 1 ] && echo y || echo ies)" "nbd://127.0.0.1:$AP/pagepool"
  kill "$APID"; wait "$APID" 2>/dev/null || true
done

python3 - "$WORK/results" "$WORK/latency" <<'PY'
import sys
lat = [(" ".join(r[:-6]), list(map(int, r[-6:]))) for r in (l.split() for l in open(sys.argv[2]))]
rows = [(" ".join(r[:-9]), list(map(int, r[-9:]))) for r in (l.split() for l in open(sys.argv[1]))]
# Row 0 is nbdkit memory, row 1 the same behind one hop; pagepool is compared with both.
for i, name in ((0, "nbdkit memory"), (1, "nbdkit one hop (its nbd plugin in front of nbdkit memory)")):
    base = lat[i][1]
    print("\npage-fault latency against %s (fio 4k qd1; lower is better)" % name)
    for label, f in lat[i + 1:]:
        q = [x / max(1, b) for x, b in zip(f, base)]
        print("%-22s randread p50 %.2fx, p99 %.2fx, p99.9 %.2fx | randwrite p50 %.2fx, p99 %.2fx, p99.9 %.2fx" % (label, *q))
    base = rows[i][1]
    print("ratios against %s (IOPS and MB/s: higher is better; p99: lower is better)" % name)
    for label, f in rows[i + 1:]:
        print("%-22s randrw IOPS %.2fx, randread IOPS %.2fx, randread p99 %.2fx, nbdcopy in %.2fx, out %.2fx "
              "(first copy %.2fx / %.2fx)" % (label, f[0] / base[0], f[3] / base[3], f[4] / max(1, base[4]),
                                             f[5] / base[5], f[6] / base[6], f[7] / base[7], f[8] / base[8]))
PY
