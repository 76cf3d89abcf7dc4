package dev.pagepool.client;

import dev.pagepool.protocol.Status;
import io.vertx.core.Context;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;

/**
 * The threads the client starts, and the one way a thread of the client's callers waits for a call. The rules
 * both follow are the threading contract of the package comment: an event loop never waits, and only the
 * application's threads and the client's own control threads do.
 */
final class ClientThreads {
    /** Every thread the client starts has a name that begins so. */
    static final String PREFIX = "pagepool-";
    /** Runs the conductor: readmission, the stall bound, load polling, re-replication's pace. */
    static final String CONTROL = PREFIX + "control";
    /** Hands pages donors give back to the receiver, which writes them to disk. */
    static final String HANDBACK_WORKER = PREFIX + "handback";

    private ClientThreads() {
    }

    /** Threads named {@code name} that do not keep the JVM alive: the client's work ends with the application. */
    static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Waits for a call, on an application thread or one of the client's control threads. No overall timeout: every
     * frame it sent is bounded by the request timeout, so the call completes; a failure is unwrapped into the
     * exception the donor's status names. On a Vert.x event loop it throws at once instead of waiting: the reply it
     * would wait for is read by an event loop, perhaps this one.
     */
    static <T> T join(CompletableFuture<T> future) {
        if (Context.isOnEventLoopThread()) {
            throw new IllegalStateException("a synchronous pagepool call waits, and " + Thread.currentThread().getName()
                + " is a Vert.x event loop, which never waits (the threading contract of dev.pagepool.client): "
                + "call the Async variant and compose on its future");
        }
        try {
            return future.get();
        } catch (ExecutionException e) {
            Throwable cause = PagePoolException.causeOf(e);
            if (cause instanceof PagePoolException p) {
                throw p;
            }
            throw new PagePoolException(Status.INTERNAL, String.valueOf(cause));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DonorUnavailableException("interrupted");
        }
    }
}
