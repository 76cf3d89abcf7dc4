package dev.pagepool.node.health;

import dev.pagepool.node.pressure.DonorBudget;
import dev.pagepool.node.pressure.WatermarkGuard;
import dev.pagepool.node.pressure.WatermarkLevel;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * DOWN while the donor is at the LOW or MIN watermark or draining: it is alive and still serves gets, flushes
 * and hand-back, but rejects puts, so it is no placement target.
 */
@Readiness
@ApplicationScoped
public class PressureReadiness implements HealthCheck {
    @Inject
    WatermarkGuard guard;
    @Inject
    DonorBudget budget;

    @Override
    public HealthCheckResponse call() {
        WatermarkLevel level = guard.level();
        boolean draining = guard.draining();
        return HealthCheckResponse.named("pressure")
            .status(!draining && !level.refusesPuts())
            .withData("watermark", level.name())
            .withData("draining", draining)
            .withData("effective_capacity_bytes", budget.effectiveBytes())
            .build();
    }
}
