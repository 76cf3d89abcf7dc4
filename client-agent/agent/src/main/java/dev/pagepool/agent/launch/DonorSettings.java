package dev.pagepool.agent.launch;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How to start one donor process. Ports of 0 are replaced by free loopback ports when the process starts.
 * {@code extra} carries any further config keys as {@code -Dkey=value}.
 */
public record DonorSettings(String name, int dataPort, int httpPort, String capacity, String token,
                            String members, int hazelcastPort, String heap, Map<String, String> extra) {
    public DonorSettings {
        extra = Map.copyOf(extra);
    }

    public static DonorSettings defaults(String name) {
        return new DonorSettings(name, 0, 0, "256m", "", "", 0, "256m", Map.of());
    }

    public DonorSettings withCapacity(String c) {
        return new DonorSettings(name, dataPort, httpPort, c, token, members, hazelcastPort, heap, extra);
    }

    public DonorSettings withToken(String t) {
        return new DonorSettings(name, dataPort, httpPort, capacity, t, members, hazelcastPort, heap, extra);
    }

    /** The donor JVM's heap ({@code -Xms} and {@code -Xmx}), which also bounds its page index. */
    public DonorSettings withHeap(String h) {
        return new DonorSettings(name, dataPort, httpPort, capacity, token, members, hazelcastPort, h, extra);
    }

    public DonorSettings withPorts(int data, int http) {
        return new DonorSettings(name, data, http, capacity, token, members, hazelcastPort, heap, extra);
    }

    public DonorSettings withCluster(String memberList, int port) {
        return new DonorSettings(name, dataPort, httpPort, capacity, token, memberList, port, heap, extra);
    }

    public DonorSettings with(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(extra);
        m.put(key, value);
        return new DonorSettings(name, dataPort, httpPort, capacity, token, members, hazelcastPort, heap, m);
    }
}
