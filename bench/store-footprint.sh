#!/usr/bin/env bash
# Memory cost of the page store: index bytes per page with 1,000,000 pages, bytes per zero page, and
# single-thread store speed, on a plain class path (so lz4-java loads its native codec).
set -euo pipefail
cd "$(dirname "$0")/.."
# One reactor run (-am): the class path lists the modules this run compiled, not copies installed in ~/.m2.
./mvnw -B -q -pl node -am test-compile dependency:build-classpath -DskipTests -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench.classpath
exec java -Xmx4g -XX:MaxDirectMemorySize=10g \
  -cp "node/target/classes:node/target/test-classes:$(cat node/target/bench.classpath)" \
  dev.pagepool.node.store.StoreFootprintBenchmark
