#!/usr/bin/env bash
# Hand-back throughput and drain time: a donor holding GIB GiB of an agent's swap pages is drained, and every page
# goes back to the agent's disk file. Usage: bench/drain.sh [GIB]
exec "$(dirname "$0")/run-test-class.sh" dev.pagepool.bench.DrainBenchmark "${1:-1}"
