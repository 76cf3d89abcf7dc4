#!/usr/bin/env bash
# The agent inside a guest whose kernel swaps to it (AgentInGuestTest, tag guest-agent, left out of ./mvnw verify
# until it passes): the guest's nbd-client on the agent's Unix socket, the agent from a read-only disk inside the
# guest, 3 donors on this host. Builds this checkout with the reactor. Each case is one boot under QEMU's TCG, 5 to
# 15 minutes; the guest's console (agent log, RSS and I/O every 5 s, kernel messages) is kept in
# e2e/target/kernel-swap/. Usage: bench/agent-in-guest.sh [plain|squeeze|both]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-both}" in
  plain) test='AgentInGuestTest#theAgentServesTheKernelItRunsUnderAndEveryPageComesBack' ;;
  squeeze) test='AgentInGuestTest#theAgentKeepsServingWhenTheGuestIsSqueezedFurtherWhileItSwaps' ;;
  both) test='AgentInGuestTest' ;;
  *) echo "usage: $0 [plain|squeeze|both]" >&2; exit 2 ;;
esac
./mvnw -B -pl e2e -am verify -DskipKernelTests -De2e.excludedGroups=kernel -Dtest="$test" \
  -Dsurefire.failIfNoSpecifiedTests=false
