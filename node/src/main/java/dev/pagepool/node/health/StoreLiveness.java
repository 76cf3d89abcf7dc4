package dev.pagepool.node.health;

import dev.pagepool.node.store.PageStore;
import dev.pagepool.node.store.StoreStats;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * Alive while the page store answers: taking its statistics goes through the store's lock, so a donor stuck
 * inside the store (a deadlock) fails this probe and is restarted rather than left holding pages it can
 * no longer serve.
 */
@Liveness
@ApplicationScoped
public class StoreLiveness implements HealthCheck {
    @Inject
    PageStore store;

    @Override
    public HealthCheckResponse call() {
        StoreStats stats = store.stats();
        return HealthCheckResponse.named("page-store")
            .up()
            .withData("pages", stats.pages())
            .withData("used_bytes", stats.usedBytes())
            .withData("capacity_bytes", stats.capacityBytes())
            .build();
    }
}
