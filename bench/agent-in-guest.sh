#!/usr/bin/env bash
# The agent inside a guest whose kernel swaps to it (AgentInGuestTest): the guest's nbd-client on the agent's Unix
# socket, the agent from a read-only disk inside the guest, 3 donors on this host; both cases are in the kernel group
# of ./mvnw verify, and plain also holds the agent's RSS inside the guest to 96 MiB + 0.2% of the export. Builds this
# checkout with the reactor. Each case is one boot under QEMU's TCG, 6 to 13 minutes; the guest's console (agent
# log, RSS and I/O every 5 s, where the agent's threads and kswapd wait, kernel messages) is kept in
# e2e/target/kernel-swap/, and each case prints the agent's peak RSS. Usage: bench/agent-in-guest.sh [plain|squeeze|all]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-all}" in
  plain) test='AgentInGuestTest#theAgentServesTheKernelItRunsUnderWithinItsRssBoundAndEveryPageComesBack' ;;
  squeeze) test='AgentInGuestTest#theAgentKeepsServingWhenTheGuestIsSqueezedFurtherWhileItSwaps' ;;
  all) test='AgentInGuestTest' ;;
  *) echo "usage: $0 [plain|squeeze|all]" >&2; exit 2 ;;
esac
./mvnw -B -pl e2e -am verify -DskipKernelTests -De2e.excludedGroups=none -Dtest="$test" \
  -Dsurefire.failIfNoSpecifiedTests=false
