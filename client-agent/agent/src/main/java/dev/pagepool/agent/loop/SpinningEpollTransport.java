package dev.pagepool.agent.loop;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.vertx.core.impl.transports.EpollTransport;
import java.util.concurrent.ThreadFactory;

/** Vert.x's epoll transport whose I/O event loops spin briefly before they sleep ({@link BoundedSpin}). */
final class SpinningEpollTransport extends EpollTransport {
    private final long spinNanos;

    SpinningEpollTransport(long spinNanos) {
        this.spinNanos = spinNanos;
    }

    @Override
    public EventLoopGroup eventLoopGroup(int type, int nThreads, ThreadFactory threadFactory, int ioRatio) {
        if (type != IO_EVENT_LOOP_GROUP) {
            return super.eventLoopGroup(type, nThreads, threadFactory, ioRatio);
        }
        EpollEventLoopGroup group = new EpollEventLoopGroup(nThreads, threadFactory, () -> BoundedSpin.ofCallingLoop(spinNanos));
        group.setIoRatio(ioRatio);
        return group;
    }
}
