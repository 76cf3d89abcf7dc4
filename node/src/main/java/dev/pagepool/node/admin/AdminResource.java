package dev.pagepool.node.admin;

import dev.pagepool.node.config.NodeSettings;
import dev.pagepool.node.drain.DonorDrain;
import dev.pagepool.node.drain.DrainSummary;
import dev.pagepool.node.metrics.NodeStatsView;
import dev.pagepool.node.pool.Pool;
import dev.pagepool.node.pool.PoolRegistry;
import dev.pagepool.node.pressure.DonorBudget;
import dev.pagepool.node.pressure.PressureSampler;
import dev.pagepool.node.pressure.WatermarkGuard;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Comparator;
import java.util.LinkedHashMap;
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
    DonorBudget budget;
    @Inject
    WatermarkGuard guard;
    @Inject
    PressureSampler sampler;
    @Inject
    DonorDrain drain;
    @Inject
    NodeSettings settings;

    public record PoolView(int id, String kind, boolean persistent, boolean shared, String owner_client_id,
                           long created_at_millis) {
        static PoolView of(Pool p, boolean withOwner) {
            return new PoolView(p.id(), p.spec().kind(), p.persistent(), p.shared(),
                p.shared() || !withOwner ? null : Long.toUnsignedString(p.ownerClientId()), p.createdAtMillis());
        }
    }

    public record CapacityRequest(Long bytes) {
    }

    @GET
    @Path("/stats")
    public Map<String, Object> stats() {
        return withLevelName(stats.snapshot());
    }

    /** The numbers of the STATS opcode, plus the watermark level by name for people reading JSON. */
    private Map<String, Object> withLevelName(Map<String, Long> snapshot) {
        Map<String, Object> m = new LinkedHashMap<>(snapshot);
        m.put("watermark", guard.level().name());
        return m;
    }

    @GET
    @Path("/pools")
    public List<PoolView> pools(@HeaderParam("Authorization") String authorization) {
        boolean withOwner = AdminCaller.of(settings, authorization).seesOwners();
        return pools.all().stream().sorted(Comparator.comparingInt(Pool::id)).map(p -> PoolView.of(p, withOwner)).toList();
    }

    @PUT
    @Path("/capacity")
    @Consumes(MediaType.APPLICATION_JSON)
    public Map<String, Object> capacity(CapacityRequest request) {
        if (request == null || request.bytes() == null) {
            throw new BadRequestException("body must be {\"bytes\": N} with N >= 0");
        }
        if (request.bytes() < 0) {
            throw new BadRequestException("capacity must not be negative, got " + request.bytes());
        }
        long before = budget.operatorBytes();
        budget.setOperatorBytes(request.bytes());
        LOG.infof("capacity changed from %d to %d bytes (effective %d)", before, request.bytes(), budget.effectiveBytes());
        // The level may have moved: evict or start hand-back now, not at the next period.
        guard.enforce();
        sampler.sampleSoon();
        return withLevelName(stats.snapshot());
    }

    /**
     * Hands every persistent page back to its owner, drops ephemeral pages, leaves the cluster; returns when
     * done (or at pagepool.node.drain-timeout) with what it did. The process keeps running.
     */
    @POST
    @Path("/drain")
    public DrainSummary drain() {
        return drain.drain();
    }
}
