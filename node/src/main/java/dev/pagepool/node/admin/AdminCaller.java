package dev.pagepool.node.admin;

import dev.pagepool.node.config.NodeSettings;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Who calls the admin API, by the bearer token it sends. Every agent host holds the data token
 * ({@code pagepool.auth.token}), so it may read the donor's numbers but never change the donor: shrinking or draining
 * it, or seeing which client owns which pool, takes the admin token ({@code pagepool.admin.token}). A donor with
 * neither token (on loopback only, which {@link NodeSettings} enforces) is open to whoever reaches it, but tells
 * nobody who owns its pools.
 */
enum AdminCaller {
    /** Presented the admin token. */
    ADMIN,
    /** Presented the data token: reads only. */
    DATA,
    /** A donor with no token at all: reads and changes, from loopback. */
    OPEN,
    /** Presented nothing valid. */
    STRANGER;

    private static final String PREFIX = "Bearer ";

    static AdminCaller of(NodeSettings settings, String authorization) {
        byte[] presented = authorization != null && authorization.startsWith(PREFIX)
            ? authorization.substring(PREFIX.length()).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (settings.adminTokenSet() && MessageDigest.isEqual(presented, settings.adminTokenBytes())) {
            return ADMIN;
        }
        if (settings.authRequired() && MessageDigest.isEqual(presented, settings.tokenBytes())) {
            return DATA;
        }
        return !settings.authRequired() && !settings.adminTokenSet() ? OPEN : STRANGER;
    }

    boolean mayRead() {
        return this != STRANGER;
    }

    boolean mayChange() {
        return this == ADMIN || this == OPEN;
    }

    /** Owner ids tell an impostor whose id to say: the admin alone sees them. */
    boolean seesOwners() {
        return this == ADMIN;
    }
}
