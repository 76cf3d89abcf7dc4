package dev.pagepool.node.admin;

import dev.pagepool.node.metrics.NodeStatsView;
import dev.pagepool.node.pool.Pool;
import dev.pagepool.node.pool.PoolRegistry;
import dev.pagepool.node.store.PageStore;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/** The operator's view of a donor: statistics, pools, and the RAM budget, which can change at runtime. */
@Path("/admin")
@Produces(MediaType.APPLICATION_JSON)
public class AdminResource {
    private static final Logger LOG = Logger.getLogger(AdminResource.class);

    @Inject
    NodeStatsView stats;
    @Inject
    PoolRegistry pools;
    @Inject
    PageStore store;

    public record PoolView(int id, String kind, boolean persistent, boolean shared, String owner_client_id,
                           long created_at_millis) {
        static PoolView of(Pool p) {
            return new PoolView(p.id(), p.spec().kind(), p.persistent(), p.shared(),
                p.shared() ? null : Long.toUnsignedString(p.ownerClientId()), p.createdAtMillis());
        }
    }

    public record CapacityRequest(Long bytes) {
    }

    @GET
    @Path("/stats")
    public Map<String, Long> stats() {
        return stats.snapshot();
    }

    @GET
    @Path("/pools")
    public List<PoolView> pools() {
        return pools.all().stream().sorted(Comparator.comparingInt(Pool::id)).map(PoolView::of).toList();
    }

    @PUT
    @Path("/capacity")
    @Consumes(MediaType.APPLICATION_JSON)
    public Map<String, Long> capacity(CapacityRequest request) {
        if (request == null || request.bytes() == null) {
            throw new BadRequestException("body must be {\"bytes\": N} with N >= 0");
        }
        if (request.bytes() < 0) {
            throw new BadRequestException("capacity must not be negative, got " + request.bytes());
        }
        long before = store.capacityBytes();
        store.setCapacity(request.bytes());
        LOG.infof("capacity changed from %d to %d bytes", before, request.bytes());
        return stats.snapshot();
    }
}
