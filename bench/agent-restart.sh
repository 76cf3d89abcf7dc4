#!/usr/bin/env bash
# The agent's restart time under a swapping kernel: a Linux guest (QEMU, TCG) swaps on the export of an agent on 3
# donors; the agent is killed (kill -9) mid-run, or stopped with SIGTERM for an upgrade, and started again with the
# same arguments; QEMU's NBD client reconnects. Runs the two kernel-swap tests that do it, each of which verifies
# every page the guest's program wrote, and prints the figure they measure: from the old agent's end to the new one
# serving, and to its first read served.
# Usage: bench/agent-restart.sh   (needs what .ci/run installs for the kernel-swap tests; a few minutes a guest)
set -euo pipefail
cd "$(dirname "$0")/.."
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
# The reactor (-am) builds every module the end-to-end tests need from this checkout; nothing is installed into ~/.m2.
./mvnw -B -pl e2e -am verify -Dtest='KernelSwapTest#theAgent*' -Dsurefire.failIfNoSpecifiedTests=false >"$LOG" 2>&1 \
  || { tail -60 "$LOG"; exit 1; }
grep -E "agent (killed|upgraded):" "$LOG" | sed 's/^.*\] //'
grep -E "Tests run:.*KernelSwapTest" "$LOG" | tail -1
