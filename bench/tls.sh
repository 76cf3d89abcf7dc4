#!/usr/bin/env bash
# What TLS on the data port costs: a plain donor and a TLS donor on 127.0.0.1 in the same run, batched puts and gets
# (64 pages a frame, THREADS threads) and a single client one page at a time. Usage: bench/tls.sh [PAGES] [THREADS]
exec "$(dirname "$0")/run-test-class.sh" dev.pagepool.bench.TlsBenchmark "${1:-100000}" "${2:-4}"
