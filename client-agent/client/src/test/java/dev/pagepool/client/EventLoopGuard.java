package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * A Vert.x instance whose blocked-thread checker fires after 50 ms on an event loop, and a record of every
 * warning it gave: the threading contract says an event loop never blocks, and a test fails on the first warning.
 */
public final class EventLoopGuard implements AutoCloseable {
    /**
     * Every blocking call the contract forbids waits at least a connect or request timeout (hundreds of ms and
     * more), so 100 ms catches each one while a scheduler hiccup on a 2-core machine does not fail a test; a
     * loaded developer machine may raise it with {@code -Deventloop.max-millis}.
     */
    public static final long MAX_EVENT_LOOP_MILLIS = Long.getLong("eventloop.max-millis", 100);
    private static final String CHECKER = "io.vertx.core.impl.BlockedThreadChecker";

    private final Vertx vertx;
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Logger checker = Logger.getLogger(CHECKER);
    private final Handler recorder = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                StringBuilder where = new StringBuilder(record.getMessage());
                if (record.getThrown() != null) {
                    for (StackTraceElement frame : record.getThrown().getStackTrace()) {
                        where.append("\n    at ").append(frame);
                    }
                }
                warnings.add(where.toString());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    public EventLoopGuard() {
        checker.addHandler(recorder);
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setPreferNativeTransport(false)
            .setBlockedThreadCheckInterval(10).setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
            .setMaxEventLoopExecuteTime(MAX_EVENT_LOOP_MILLIS).setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
            .setWarningExceptionTime(MAX_EVENT_LOOP_MILLIS).setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS));
    }

    /**
     * Connects once to {@code address} and forgets what the checker saw meanwhile: the first connection of a JVM
     * loads Netty's resolver and socket classes on the event loop, a one-time stall that is not the code under test.
     */
    public void warmUp(java.net.InetSocketAddress address) throws Exception {
        io.vertx.core.net.NetClient client = vertx.createNetClient();
        client.connect(address.getPort(), address.getHostString()).compose(socket -> socket.close())
            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        client.close();
        // The first log record of a JVM loads the formatter and the level names' resource bundles: a failover logs
        // on the event loop, and that one-time load is not what the checker is there to catch either.
        new java.util.logging.SimpleFormatter().format(new LogRecord(Level.WARNING, "warm-up"));
        Thread.sleep(2 * MAX_EVENT_LOOP_MILLIS);
        warnings.clear();
    }

    public Vertx vertx() {
        return vertx;
    }

    public void assertNoEventLoopBlocked() {
        assertEquals(List.of(), warnings, "an event loop was blocked for more than " + MAX_EVENT_LOOP_MILLIS + " ms");
    }

    @Override
    public void close() throws Exception {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } finally {
            checker.removeHandler(recorder);
        }
    }
}
