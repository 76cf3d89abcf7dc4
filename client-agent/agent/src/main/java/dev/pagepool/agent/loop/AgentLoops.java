package dev.pagepool.agent.loop;

import io.netty.channel.epoll.Epoll;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.impl.VertxBuilder;
import io.vertx.core.spi.VertxThreadFactory;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The agent's Vert.x: epoll event loops that spin for {@code spinMicros} before sleeping (0: they never spin). */
public final class AgentLoops {
    private AgentLoops() {
    }

    static final int WORKERS = 2;

    public static Vertx create(int eventLoops, long spinMicros) {
        return create(eventLoops, spinMicros, () -> { });
    }

    /** @param onNewThread run first on every thread this Vert.x creates: event loops, workers, its internal pool */
    public static Vertx create(int eventLoops, long spinMicros, Runnable onNewThread) {
        // A blocked event loop is reported with its stack at the first warning, not after 5 s: on a host out of
        // memory the first seconds of a stall are the ones that say what the agent waited for.
        VertxOptions options = new VertxOptions().setEventLoopPoolSize(eventLoops).setPreferNativeTransport(true)
            .setWarningExceptionTime(VertxOptions.DEFAULT_MAX_EVENT_LOOP_EXECUTE_TIME)
            .setWarningExceptionTimeUnit(VertxOptions.DEFAULT_MAX_EVENT_LOOP_EXECUTE_TIME_UNIT)
            // Workers serve only a metrics scrape and the health checks' file and donor probes. Vert.x's default of
            // 20 grew to 11 threads in a guest polled every 5 s: each a stack and thread state, locked, for nothing.
            .setWorkerPoolSize(WORKERS);
        VertxBuilder builder = new VertxBuilder(options).threadFactory(startingWith(onNewThread));
        if (spinMicros > 0) {
            SpinningEpollTransport transport = new SpinningEpollTransport(spinMicros * 1000);
            // no epoll here (not Linux, or no native library): Vert.x finds NIO itself, without the spin
            if (transport.isAvailable()) {
                builder.findTransport(transport);
            }
        }
        Vertx vertx = builder.init().vertx();
        if (!vertx.isNativeTransportEnabled()) {
            // Without epoll there is no Unix socket for the export and no spin: say why, once, at start.
            Throwable cause = Epoll.unavailabilityCause();
            Logger.getLogger(AgentLoops.class.getName()).log(Level.WARNING, "Netty's epoll transport did not load: "
                + cause + "; the agent runs on Java NIO, without Unix sockets", cause);
        }
        return vertx;
    }

    private static VertxThreadFactory startingWith(Runnable onNewThread) {
        return new VertxThreadFactory() {
            @Override
            public io.vertx.core.impl.VertxThread newVertxThread(Runnable target, String name, boolean worker,
                                                                  long maxExecTime, java.util.concurrent.TimeUnit unit) {
                return VertxThreadFactory.INSTANCE.newVertxThread(() -> {
                    onNewThread.run();
                    target.run();
                }, name, worker, maxExecTime, unit);
            }
        };
    }
}
