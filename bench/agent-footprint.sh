#!/usr/bin/env bash
# Where the agent's RSS goes, as inside the in-guest test: the agent on a Java runtime cut down by jlink with the
# modules AgentDisk puts on the guest's disk (and, with CDS=1, the class-data archive a JDK package ships), the JVM
# options the launcher gives a 512 MiB export, 3 donors on 127.0.0.1. Prints the RSS at rest and after fio (randrw
# at depth 16, 4 KiB for 15 s then 128 KiB for 10 s), the JVM's native memory by category and how it moved under
# fio (NMT=0 leaves tracking out: it costs about 2 MiB itself), and the file mappings that are resident.
# EXTRA="..." adds JVM options, to try a lever. Usage: [CDS=1] [NMT=0] [EXTRA=...] bench/agent-footprint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/cluster.sh
ensure_built
bench_work
JDK="$WORK/jdk"
"$(dirname "$(readlink -f "$(command -v java)")")/jlink" --add-modules \
  java.base,java.logging,java.management,java.naming,java.xml,java.sql,jdk.unsupported,jdk.crypto.ec,jdk.management \
  --strip-debug --no-header-files --no-man-pages --output "$JDK"
[ "${CDS:-0}" = 1 ] && "$JDK/bin/java" -Xshare:dump >/dev/null
start_donors footprint "$WORK"
TRACK="-XX:NativeMemoryTracking=summary"
[ "${NMT:-1}" = 0 ] && TRACK=""
AP=$(free_port); HP=$(free_port)
# shellcheck disable=SC2046,SC2086 # the options are words
MALLOC_ARENA_MAX=2 "$JDK/bin/java" $(./pagepool agent-jvm-options --size 512m) ${EXTRA:-} $TRACK \
  -jar client-agent/agent/target/pagepool-agent-0.1.0-SNAPSHOT-all.jar agent --nodes "$NODES" --size 512m \
  --disk "$WORK/swap.img" --nbd "127.0.0.1:$AP" --http "127.0.0.1:$HP" --state "$WORK/state" >"$WORK/agent.log" 2>&1 &
APID=$!
PIDS+=("$APID")
await_agent "$WORK/agent.log" 300
sleep 2
status() { grep -E '^(VmRSS|RssAnon|RssFile)' "/proc/$APID/status" | tr -s ' \t' ' ' | tr '\n' ' '; echo; }
echo "runtime: cut down by jlink, class-data archive: ${CDS:-0}; options: $(./pagepool agent-jvm-options --size 512m) ${EXTRA:-}"
echo "at rest:   $(status)"
[ -n "$TRACK" ] && jcmd "$APID" VM.native_memory baseline >/dev/null
for bs in 4k 128k; do
  fio --name=footprint --ioengine=nbd --uri="nbd://127.0.0.1:$AP/pagepool" --rw=randrw --bs="$bs" --iodepth=16 \
    --size=512m --time_based --runtime="$([ "$bs" = 4k ] && echo 15 || echo 10)" --output=/dev/null
done
echo "after fio: $(status)"
if [ -n "$TRACK" ]; then
  echo "native memory committed (KiB), and its change under fio:"
  jcmd "$APID" VM.native_memory summary.diff | grep -E '^- ' | sed -E 's/reserved=[0-9]+KB( [+-][0-9]+KB)?, //; s/^- +/  /'
fi
echo "resident file mappings (KiB):"
awk '/^[0-9a-f]+-[0-9a-f]+ /{name=$6} /^Rss:/{if (name ~ /^\//) r[name]+=$2} END{for(n in r) if (r[n]>256) print "  " r[n], n}' \
  "/proc/$APID/smaps" | sort -rn
