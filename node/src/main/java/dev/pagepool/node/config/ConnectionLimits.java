package dev.pagepool.node.config;

/**
 * What one data connection may cost the donor.
 *
 * @param helloTimeoutMillis        the handshake (HELLO and AUTH) must be done within this of the accept
 * @param idleTimeoutMillis         a connection on which no whole frame arrived or left for this long is closed
 * @param maxUnauthenticated        connections still in the handshake accepted at once (apart from max-connections)
 * @param maxInflight               replies queued before the donor stops reading the connection
 * @param maxReserveBytes           reserve bytes held in unsent replies before the donor stops reading the connection
 */
public record ConnectionLimits(long helloTimeoutMillis, long idleTimeoutMillis, int maxUnauthenticated, int maxInflight,
                               long maxReserveBytes) {
}
