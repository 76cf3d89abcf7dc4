package dev.pagepool.agent.cli;

import dev.pagepool.agent.state.AgentState;
import dev.pagepool.client.PoolSecret;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The state an agent starts from: the one a previous agent left for this export (resumed), or a new one. A new
 * one is made when asked ({@code --fresh}) or when there is none: on tmpfs a missing state means the host booted
 * since, or the last agent stopped with no client connected and gave its export up; either way no kernel can
 * still have the export open. A state that is there but torn, or of another export, is refused, never replaced
 * without {@code --fresh}.
 */
final class StartState {
    private StartState() {
    }

    static AgentState of(Path dir, AgentState.Export export, boolean fresh, int replicas) {
        Path file = AgentState.file(dir, export.name());
        if (fresh || !Files.exists(file)) {
            return AgentState.create(file, export, ThreadLocalRandom.current().nextLong(), PoolSecret.random(), replicas);
        }
        AgentState state = AgentState.open(file, export);
        if (state.replicas() != replicas) {
            System.out.printf("the resumed export keeps %d cop%s of each page, as it was made (--replicas %d ignored)%n",
                state.replicas(), state.replicas() == 1 ? "y" : "ies", replicas);
        }
        return state;
    }
}
