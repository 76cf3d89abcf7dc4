package dev.pagepool.agent.loop;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.impl.VertxBuilder;
import io.vertx.core.spi.VertxThreadFactory;

/** The agent's Vert.x: epoll event loops that spin for {@code spinMicros} before sleeping (0: they never spin). */
public final class AgentLoops {
    private AgentLoops() {
    }

    public static Vertx create(int eventLoops, long spinMicros) {
        return create(eventLoops, spinMicros, () -> { });
    }

    /** @param onNewThread run first on every thread this Vert.x creates: event loops, workers, its internal pool */
    public static Vertx create(int eventLoops, long spinMicros, Runnable onNewThread) {
        VertxOptions options = new VertxOptions().setEventLoopPoolSize(eventLoops).setPreferNativeTransport(true);
        VertxBuilder builder = new VertxBuilder(options).threadFactory(startingWith(onNewThread));
        if (spinMicros > 0) {
            SpinningEpollTransport transport = new SpinningEpollTransport(spinMicros * 1000);
            // no epoll here (not Linux, or no native library): Vert.x finds NIO itself, without the spin
            if (transport.isAvailable()) {
                builder.findTransport(transport);
            }
        }
        return builder.init().vertx();
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
