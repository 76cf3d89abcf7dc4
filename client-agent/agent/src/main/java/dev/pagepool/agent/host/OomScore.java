package dev.pagepool.agent.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code oom_score_adj} -1000, as {@code nbd-client -swap} sets for itself: if the OOM killer took the agent, every
 * page it holds would go with it, and the processes those pages belong to would read errors.
 */
final class OomScore {
    static final String NAME = "oom_score_adj";
    static final int UNKILLABLE = -1000;
    private static final Path ADJ = Path.of("/proc/self/oom_score_adj");

    private OomScore() {
    }

    static Safeguard lower() {
        String remedy = "grant CAP_SYS_RESOURCE, or set it from outside: OOMScoreAdjust=-1000 in the systemd unit, "
            + "or choom -n -1000 -p PID";
        try {
            // Set already (systemd's OOMScoreAdjust=): writing it again is allowed, but there is nothing to do.
            if (current() != UNKILLABLE) {
                Files.writeString(ADJ, Integer.toString(UNKILLABLE));
            }
            int now = current();
            return now == UNKILLABLE ? Safeguard.holds(NAME, "-1000: the OOM killer never picks the agent")
                : Safeguard.missing(NAME, "still " + now + " after writing -1000", remedy);
        } catch (IOException | SecurityException | NumberFormatException e) {
            // Lowering the score below what it was needs CAP_SYS_RESOURCE; the kernel answers EACCES.
            return Safeguard.missing(NAME, "could not write -1000 (" + e.getMessage() + "); lowering it needs "
                + "CAP_SYS_RESOURCE", remedy);
        }
    }

    private static int current() throws IOException {
        return Integer.parseInt(Files.readString(ADJ).strip());
    }
}
