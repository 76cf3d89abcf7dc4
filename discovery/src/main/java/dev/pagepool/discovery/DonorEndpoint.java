package dev.pagepool.discovery;

import com.hazelcast.cluster.Member;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Where a donor takes pages: published once, as attributes of its Hazelcast member, so that every member and
 * client learns it together with the membership itself (no separate lookup, no window where a member is known
 * but its endpoint is not).
 *
 * @param name     the donor's name (shown in stats and logs)
 * @param host     host or IP clients connect to for the data port
 * @param dataPort the pagepool TCP data port
 * @param httpPort the REST admin / health / metrics port
 * @param donorId  the id the donor process proves in its handshake, or null (a donor that publishes none): lets a
 *                 client tell whether news about this endpoint is about the process it is connected to
 */
public record DonorEndpoint(String name, String host, int dataPort, int httpPort, UUID donorId) {
    /** Marks a member as a donor; other members (tools, future roles) carry no such attribute. */
    public static final String ATTR_ROLE = "pagepool.role";
    public static final String ROLE_DONOR = "donor";
    public static final String ATTR_NAME = "pagepool.name";
    public static final String ATTR_HOST = "pagepool.data-host";
    public static final String ATTR_DATA_PORT = "pagepool.data-port";
    public static final String ATTR_HTTP_PORT = "pagepool.http-port";
    public static final String ATTR_DONOR_ID = "pagepool.donor-id";

    public DonorEndpoint(String name, String host, int dataPort, int httpPort) {
        this(name, host, dataPort, httpPort, null);
    }

    public DonorEndpoint {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
        if (dataPort < 1 || dataPort > 65535) {
            throw new IllegalArgumentException("data port must be 1..65535, got " + dataPort);
        }
        if (httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("http port must be 0..65535, got " + httpPort);
        }
    }

    public Map<String, String> toAttributes() {
        Map<String, String> attributes = new HashMap<>(Map.of(
            ATTR_ROLE, ROLE_DONOR,
            ATTR_NAME, name,
            ATTR_HOST, host,
            ATTR_DATA_PORT, Integer.toString(dataPort),
            ATTR_HTTP_PORT, Integer.toString(httpPort)));
        if (donorId != null) {
            attributes.put(ATTR_DONOR_ID, donorId.toString());
        }
        return Map.copyOf(attributes);
    }

    /** The endpoint a donor member published, or empty for a member that is not a donor (or a malformed one). */
    public static Optional<DonorEndpoint> of(Member member) {
        if (!ROLE_DONOR.equals(member.getAttribute(ATTR_ROLE))) {
            return Optional.empty();
        }
        try {
            return Optional.of(new DonorEndpoint(
                member.getAttribute(ATTR_NAME),
                advertisedHost(member),
                Integer.parseInt(member.getAttribute(ATTR_DATA_PORT)),
                Integer.parseInt(member.getAttribute(ATTR_HTTP_PORT)),
                donorId(member)));
        } catch (RuntimeException malformed) {
            return Optional.empty();
        }
    }

    private static UUID donorId(Member member) {
        String id = member.getAttribute(ATTR_DONOR_ID);
        return id == null ? null : UUID.fromString(id); // a malformed id makes the whole endpoint malformed
    }

    /**
     * The host clients reach the data port at: the published one, or, for a donor whose data port binds every
     * interface ({@code 0.0.0.0}, {@code ::}, as in a pod), the address its Hazelcast member was reached at.
     */
    private static String advertisedHost(Member member) {
        String host = member.getAttribute(ATTR_HOST);
        if (host == null || isWildcard(host)) {
            return member.getAddress().getHost();
        }
        return host;
    }

    static boolean isWildcard(String host) {
        String h = host.trim();
        return h.isEmpty() || h.equals("0.0.0.0") || h.equals("::") || h.equals("[::]") || h.equals("0:0:0:0:0:0:0:0");
    }

    /** {@code host:dataPort}, the form {@code --nodes} takes. */
    public String dataAddress() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + dataPort;
    }
}
