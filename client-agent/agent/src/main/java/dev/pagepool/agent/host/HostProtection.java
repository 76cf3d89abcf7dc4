package dev.pagepool.agent.host;

import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What keeps the agent serving while its host is out of memory: locked in RAM, its I/O threads out of reclaim's
 * way, out of the OOM killer's reach. Each one is tried once, at start, and reported; none is fatal unless the
 * operator asks ({@link #requireAll()}), since an agent without them still serves, only less safely.
 */
public final class HostProtection {
    private final List<Safeguard> safeguards;

    private HostProtection(List<Safeguard> safeguards) {
        this.safeguards = List.copyOf(safeguards);
    }

    /**
     * First thing in the agent's {@code main}: restarts the JVM with the I/O flusher flag on every thread when the
     * process may have it (see {@link IoFlusher}); returns when it cannot or need not.
     */
    public static void restartFlaggedIfPossible() {
        SmallPages.apply(); // first: a restart keeps it, so the new JVM's own start-up faults use small pages too
        IoFlusher.restartFlagged();
    }

    /**
     * Applies the three. Call it on the main thread before any other thread of the agent exists: the I/O flusher
     * flag is set on the calling thread and inherited only by threads created after it.
     */
    public static HostProtection apply() {
        Safeguard flusher = IoFlusher.markThisThread();
        return new HostProtection(List.of(MemoryLock.lock(), flusher, OomScore.lower()));
    }

    public List<Safeguard> safeguards() {
        return safeguards;
    }

    public boolean complete() {
        return safeguards.stream().allMatch(Safeguard::held);
    }

    /**
     * For every new thread of the agent's Vert.x, run on that thread: inheritance alone depends on which thread
     * happens to create it (Netty starts a loop's thread on its first task, from whoever submits it).
     */
    public void onNewThread() {
        if (safeguards.stream().anyMatch(s -> s.name().equals(IoFlusher.NAME) && s.held())) {
            IoFlusher.markThisThread();
        }
    }

    /** One line each: what holds to {@code out}, what does not, with why and what to do, to {@code err}. */
    public void report(PrintStream out, PrintStream err) {
        for (Safeguard s : safeguards) {
            (s.held() ? out : err).println("host protection: " + s.line());
        }
        out.println("host protection: " + SmallPages.state());
    }

    /** Throws, naming what is missing and what to do, unless all three hold. */
    public void requireAll() {
        if (!complete()) {
            throw new IllegalStateException("refusing to start without every host protection (--require-locked): "
                + safeguards.stream().filter(s -> !s.held()).map(Safeguard::line).collect(Collectors.joining(" | ")));
        }
    }

    /** The health check's data: one entry per safeguard, and a state an operator can alert on. */
    public JsonObject toJson() {
        JsonObject json = new JsonObject().put("state", complete() ? "PROTECTED" : "UNPROTECTED");
        safeguards.forEach(s -> json.put(s.name(), s.toJson()));
        return json.put("pages", SmallPages.state()); // a footprint measure, not one of the three
    }
}
