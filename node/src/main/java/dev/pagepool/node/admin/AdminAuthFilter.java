package dev.pagepool.node.admin;

import dev.pagepool.node.config.NodeSettings;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Guards {@code /admin} by {@link AdminCaller}: reads take the data or the admin token, changes (capacity, drain)
 * the admin token alone, since every agent host holds the data token. Health and metrics stay open for probes and
 * scrapers.
 */
public class AdminAuthFilter {
    /** Looked up per request: the filter is made while the app starts, before the runtime config exists. */
    @Inject
    Provider<NodeSettings> settings;

    @ServerRequestFilter
    public Response checkToken(ContainerRequestContext request) {
        if (!request.getUriInfo().getPath().startsWith("/admin")) {
            return null;
        }
        AdminCaller caller = AdminCaller.of(settings.get(), request.getHeaderString("Authorization"));
        boolean reads = "GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod());
        if (reads ? caller.mayRead() : caller.mayChange()) {
            return null;
        }
        if (caller == AdminCaller.DATA) {
            return Response.status(Response.Status.FORBIDDEN)
                .type(MediaType.APPLICATION_JSON)
                .entity("{\"error\":\"the data token (pagepool.auth.token) reads the admin API but does not change the donor:"
                    + " send Authorization: Bearer <pagepool.admin.token>"
                    + (settings.get().adminTokenSet() ? "" : ", which this donor does not set") + "\"}")
                .build();
        }
        return Response.status(Response.Status.UNAUTHORIZED)
            .header("WWW-Authenticate", "Bearer")
            .type(MediaType.APPLICATION_JSON)
            .entity("{\"error\":\"send Authorization: Bearer <pagepool.admin.token>"
                + (reads ? " (or, to read, <pagepool.auth.token>)" : "") + "\"}")
            .build();
    }
}
