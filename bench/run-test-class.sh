#!/usr/bin/env bash
# Builds this checkout (bench/cluster.sh's build_here: ./mvnw package, nothing installed into ~/.m2) and runs one
# benchmark program from the end-to-end test classes (src/test/java) on their class path, with its log lines
# filtered out. Usage: bench/run-test-class.sh CLASS [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/cluster.sh
build_here
CLASS="$1"
shift
java -Xmx2g -Dpagepool.home="$PWD" -cp "$E2E_CP" "$CLASS" "$@" 2>&1 \
  | grep -v -E '^(WARNING|INFO|SEVERE|[A-Z][a-z]{2} [0-9]+, )'
