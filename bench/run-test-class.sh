#!/usr/bin/env bash
# Builds the project and runs one benchmark program from the end-to-end test classes (src/test/java) on their
# class path, with its log lines filtered out. Usage: bench/run-test-class.sh CLASS [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
./mvnw -B -q install -DskipTests >/dev/null
./mvnw -B -q -pl e2e test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$WORK/e2e.classpath" >/dev/null
CLASS="$1"
shift
java -Xmx2g -Dpagepool.home="$PWD" -cp "e2e/target/test-classes:$(cat "$WORK/e2e.classpath")" "$CLASS" "$@" 2>&1 \
  | grep -v -E '^(WARNING|INFO|SEVERE|[A-Z][a-z]{2} [0-9]+, )'
