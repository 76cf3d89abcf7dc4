#!/usr/bin/env bash
# Replication's cost and what it buys, on 3 donor processes in one Hazelcast cluster on 127.0.0.1:
# throughput with 1 and 2 copies against a single donor, the stall after kill -9 of a donor under load, and the
# speed of re-replication. Usage: bench/failover.sh [PAGES] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
./mvnw -B -q install -DskipTests >/dev/null
./mvnw -B -q -pl e2e test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$WORK/e2e.classpath" >/dev/null
java -Xmx2g -Dpagepool.home="$PWD" -cp "e2e/target/test-classes:$(cat "$WORK/e2e.classpath")" \
  dev.pagepool.bench.FailoverBenchmark "${1:-100000}" "${2:-4}" 2>&1 | grep -v -E '^(WARNING|INFO|SEVERE|Nov|[A-Z][a-z]{2} [0-9]+, )'
