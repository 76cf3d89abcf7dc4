package dev.pagepool.e2e;

import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Donors that find each other through Hazelcast on 127.0.0.1, each on its own ports, for tests that kill,
 * freeze and restart them. Closing it stops every process, also after a failed test.
 */
final class DonorCluster implements AutoCloseable {
    final String name;
    final String members;
    private final DonorSettings[] settings;
    private final DonorProcess[] donors;

    private DonorCluster(String name, String members, DonorSettings[] settings) {
        this.name = name;
        this.members = members;
        this.settings = settings;
        this.donors = new DonorProcess[settings.length];
    }

    /** Starts {@code n} donors of {@code capacity} each in a new cluster. */
    static DonorCluster start(String prefix, int n, String capacity) {
        return start(prefix, n, n, capacity);
    }

    /**
     * A cluster of {@code n} donors of which only the first {@code running} start now; {@link #startDonor} starts
     * the others later, as donors that join.
     */
    static DonorCluster start(String prefix, int n, int running, String capacity) {
        int[] hz = new int[n];
        StringBuilder members = new StringBuilder();
        for (int i = 0; i < n; i++) {
            hz[i] = DonorProcess.freePort();
            members.append(i == 0 ? "" : ",").append("127.0.0.1:").append(hz[i]);
        }
        String cluster = prefix + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
        DonorSettings[] settings = new DonorSettings[n];
        for (int i = 0; i < n; i++) {
            settings[i] = DonorSettings.defaults(prefix + "-" + i).withCapacity(capacity)
                .withPorts(DonorProcess.freePort(), DonorProcess.freePort())
                .withCluster(members.toString(), hz[i]).with("pagepool.cluster.name", cluster);
        }
        DonorCluster c = new DonorCluster(cluster, members.toString(), settings);
        try {
            for (int i = 0; i < running; i++) {
                c.donors[i] = Donors.start(settings[i]);
            }
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** Starts donor {@code i}, which joins the cluster. */
    DonorProcess startDonor(int i) {
        donors[i] = Donors.start(settings[i]);
        return donors[i];
    }

    DonorProcess donor(int i) {
        return donors[i];
    }

    List<InetSocketAddress> dataAddresses() {
        List<InetSocketAddress> a = new ArrayList<>();
        for (DonorProcess d : donors) {
            if (d != null) {
                a.add(d.dataAddress());
            }
        }
        return a;
    }

    /** The running donors' data addresses as {@code --nodes} takes them: {@code host:port,host:port}. */
    String nodesArg() {
        StringBuilder b = new StringBuilder();
        for (InetSocketAddress a : dataAddresses()) {
            b.append(b.length() == 0 ? "" : ",").append(a.getHostString()).append(':').append(a.getPort());
        }
        return b.toString();
    }

    List<String> memberList() {
        return List.of(members.split(","));
    }

    /** Starts donor {@code i} again on the same ports: a new process and a new cluster identity. */
    DonorProcess restart(int i) {
        donors[i].close();
        donors[i] = Donors.start(settings[i]);
        return donors[i];
    }

    @Override
    public void close() {
        for (DonorProcess d : donors) {
            if (d != null) {
                d.signal("CONT"); // a frozen donor would not hear SIGTERM
                d.close();
            }
        }
    }
}
