#!/usr/bin/env bash
# Hand-back throughput and drain time: a donor holding GIB GiB of an agent's swap pages is drained, and every page
# goes back to the agent's disk file. Usage: bench/drain.sh [GIB]
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
./mvnw -B -q install -DskipTests >/dev/null
./mvnw -B -q -pl e2e test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$WORK/e2e.classpath" >/dev/null
java -Xmx2g -Dpagepool.home="$PWD" -cp "e2e/target/test-classes:$(cat "$WORK/e2e.classpath")" \
  dev.pagepool.bench.DrainBenchmark "${1:-1}" 2>&1 | grep -v -E '^(WARNING|INFO|SEVERE|[A-Z][a-z]{2} [0-9]+, )'
