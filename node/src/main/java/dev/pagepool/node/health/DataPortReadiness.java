package dev.pagepool.node.health;

import dev.pagepool.node.net.DataServer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready only once the data port accepts connections: a donor that cannot take pages is no placement target. */
@Readiness
@ApplicationScoped
public class DataPortReadiness implements HealthCheck {
    @Inject
    DataServer server;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("data-port")
            .status(server.listening())
            .withData("port", server.port())
            .build();
    }
}
