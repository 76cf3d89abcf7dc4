package dev.pagepool.agent.state;

import java.nio.file.Path;

/**
 * A state file the agent will not resume from, and will not overwrite either: a kernel may still have the export
 * it describes open. The message says what is wrong and what to do.
 */
public final class StateRefusedException extends RuntimeException {
    public StateRefusedException(Path path, String why) {
        super("refusing the agent's state " + path + ": " + why + ". Give the --state, --export, --size and --disk "
            + "it was made with to resume that export, or --fresh to discard it and start an empty export");
    }
}
