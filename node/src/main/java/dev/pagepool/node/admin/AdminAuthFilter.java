package dev.pagepool.node.admin;

import dev.pagepool.node.config.NodeSettings;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Requires {@code Authorization: Bearer <pagepool.auth.token>} on {@code /admin} when a token is set: the
 * admin API can shrink a donor's budget, so it is guarded like the data port. Health and metrics stay open
 * for probes and scrapers.
 */
public class AdminAuthFilter {
    private static final String PREFIX = "Bearer ";

    @Inject
    NodeSettings settings;

    @ServerRequestFilter
    public Response checkToken(ContainerRequestContext request) {
        if (!settings.authRequired() || !request.getUriInfo().getPath().startsWith("/admin")) {
            return null;
        }
        String header = request.getHeaderString("Authorization");
        byte[] presented = header != null && header.startsWith(PREFIX)
            ? header.substring(PREFIX.length()).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (MessageDigest.isEqual(presented, settings.tokenBytes())) {
            return null;
        }
        return Response.status(Response.Status.UNAUTHORIZED)
            .header("WWW-Authenticate", "Bearer")
            .type(MediaType.APPLICATION_JSON)
            .entity("{\"error\":\"send Authorization: Bearer <pagepool.auth.token>\"}")
            .build();
    }
}
