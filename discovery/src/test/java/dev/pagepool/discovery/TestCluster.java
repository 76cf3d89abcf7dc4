package dev.pagepool.discovery;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/** Real embedded donors on 127.0.0.1 for tests: distinct free ports, a cluster name of their own, always closed. */
final class TestCluster implements AutoCloseable {
    final String name = "pagepool-test-" + UUID.randomUUID();
    final List<String> addresses = new ArrayList<>();
    final List<Integer> ports = new ArrayList<>();
    final List<DonorMember> members = new ArrayList<>();
    final List<AtomicReference<DonorLoad>> loads = new ArrayList<>();

    TestCluster(int size) {
        for (int port : freePorts(size)) {
            ports.add(port);
            addresses.add("127.0.0.1:" + port);
        }
    }

    ClusterSettings settings(int index) {
        return ClusterSettings.tcpIp(name, addresses, ports.get(index));
    }

    DonorMember start(int index) {
        return start(index, "127.0.0.1");
    }

    DonorMember start(int index, String dataHost) {
        AtomicReference<DonorLoad> load = new AtomicReference<>(
            DonorLoad.now((index + 1) * 1_000_000L, index * 1000L, 0, index * 10L));
        DonorEndpoint endpoint = new DonorEndpoint("donor-" + index, dataHost, 7410 + index, 8080 + index);
        DonorMember member = DonorMember.start(settings(index), endpoint, load::get, Duration.ofMillis(200));
        members.add(member);
        loads.add(load);
        return member;
    }

    void startAll() {
        for (int i = 0; i < ports.size(); i++) {
            start(i);
        }
    }

    @Override
    public void close() {
        for (DonorMember member : members) {
            try {
                member.hazelcast().getLifecycleService().terminate();
            } catch (RuntimeException ignored) {
                // already gone
            }
        }
    }

    static List<Integer> freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports.add(socket.getLocalPort());
            }
            return ports;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    /** Polls {@code condition} until true; fails with {@code what} after {@code timeout}. Returns the millis taken. */
    static long await(Duration timeout, String what, BooleanSupplier condition) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
        return (System.nanoTime() - start) / 1_000_000;
    }
}
