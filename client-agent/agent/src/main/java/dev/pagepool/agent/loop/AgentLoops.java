package dev.pagepool.agent.loop;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.impl.VertxBuilder;

/** The agent's Vert.x: epoll event loops that spin for {@code spinMicros} before sleeping (0: they never spin). */
public final class AgentLoops {
    private AgentLoops() {
    }

    public static Vertx create(int eventLoops, long spinMicros) {
        VertxOptions options = new VertxOptions().setEventLoopPoolSize(eventLoops).setPreferNativeTransport(true);
        if (spinMicros <= 0) {
            return Vertx.vertx(options);
        }
        SpinningEpollTransport transport = new SpinningEpollTransport(spinMicros * 1000);
        if (!transport.isAvailable()) {
            return Vertx.vertx(options); // no epoll here (not Linux, or no native library): NIO, without the spin
        }
        return new VertxBuilder(options).findTransport(transport).init().vertx();
    }
}
