package dev.pagepool.client;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Fake donors on one guarded Vert.x, warmed up, and closed with it: the fixture of a client test. */
final class FakeCluster implements AutoCloseable {
    final EventLoopGuard guard = new EventLoopGuard();
    final List<FakeDonor> fakes = new ArrayList<>();

    FakeCluster(int donors) throws Exception {
        for (int i = 0; i < donors; i++) {
            fakes.add(new FakeDonor(guard.vertx(), "fake-" + i));
        }
        guard.warmUp(fakes.get(0).address());
    }

    List<InetSocketAddress> nodes() {
        List<InetSocketAddress> nodes = new ArrayList<>();
        for (FakeDonor fake : fakes) {
            nodes.add(fake.address());
        }
        return nodes;
    }

    /** A client config of every fake: client id 21, 1 connection each, 64 in flight, 2 s timeouts, 20 s keep-alive. */
    ClientConfig config() {
        return new ClientConfig(nodes(), "", 21, 1, 64, Duration.ofSeconds(2), Duration.ofSeconds(2),
            Duration.ofSeconds(20));
    }

    /** A client of every fake, on the guarded Vert.x. */
    PagePoolClient connect() {
        return PagePoolClient.connect(config(), guard.vertx());
    }

    /** The fake behind a client's donor index, by the name it gave in HELLO. */
    FakeDonor fakeOf(PagePoolClient client, int donor) {
        String name = client.donorName(donor);
        return fakes.get(Integer.parseInt(name.substring(name.indexOf('-') + 1)));
    }

    @Override
    public void close() throws Exception {
        for (FakeDonor fake : fakes) {
            fake.close();
        }
        guard.close();
    }
}
