package dev.pagepool.node.cluster;

import dev.pagepool.discovery.DonorMember;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only while the donor is a running member of the cluster: agents learn donors from the membership, so a
 * donor that has not joined (or has left, e.g. while draining) takes no pages. UP with {@code state=DISABLED} for a
 * lone donor ({@code pagepool.cluster.enabled=false}).
 */
@Readiness
@ApplicationScoped
public class ClusterReadiness implements HealthCheck {
    @Inject
    ClusterMembership membership;

    @Override
    public HealthCheckResponse call() {
        ClusterMembership.State state = membership.state();
        Optional<DonorMember> member = membership.member();
        HealthCheckResponseBuilder response = HealthCheckResponse.named("cluster").withData("state", state.name());
        if (state == ClusterMembership.State.DISABLED) {
            return response.up().build();
        }
        if (member.isPresent() && state == ClusterMembership.State.JOINED) {
            DonorMember m = member.get();
            return response.up()
                .withData("member", m.uuid().toString())
                .withData("address", m.address())
                .withData("members", m.clusterSize())
                .build();
        }
        if (!membership.lastError().isEmpty()) {
            response.withData("error", membership.lastError());
        }
        return response.down().build();
    }
}
