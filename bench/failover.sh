#!/usr/bin/env bash
# Replication's cost and what it buys, on 3 donor processes in one Hazelcast cluster on 127.0.0.1:
# throughput with 1 and 2 copies against a single donor, the stall after kill -9 of a donor under load, and the
# speed of re-replication. Usage: bench/failover.sh [PAGES] [THREADS]
exec "$(dirname "$0")/run-test-class.sh" dev.pagepool.bench.FailoverBenchmark "${1:-100000}" "${2:-4}"
