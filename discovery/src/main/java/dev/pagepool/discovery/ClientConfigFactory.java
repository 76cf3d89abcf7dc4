package dev.pagepool.discovery;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.client.config.ClientConnectionStrategyConfig;
import com.hazelcast.client.properties.ClientProperty;
import com.hazelcast.spi.properties.ClusterProperty;
import java.util.List;

/**
 * Builds the Hazelcast client configuration of a {@link ClusterView}, in code.
 *
 * <p>The client starts asynchronously and retries forever (backoff 250 ms growing to 2 s), so that a view
 * survives a whole-cluster restart; {@link ClusterView#connect} bounds only the first connection. The client
 * heartbeats its members every second and drops a connection silent for 5 s
 * ({@code hazelcast.client.heartbeat.interval=1000}, {@code hazelcast.client.heartbeat.timeout=5000});
 * membership itself (who is a donor) comes from the cluster, whose failure detection is set in
 * {@link MemberConfigFactory}.
 */
public final class ClientConfigFactory {
    public static final int HEARTBEAT_INTERVAL_MILLIS = 1000;
    public static final int HEARTBEAT_TIMEOUT_MILLIS = 5000;
    public static final int INVOCATION_TIMEOUT_SECONDS = 10;

    private ClientConfigFactory() {
    }

    public static ClientConfig create(String clusterName, List<String> addresses) {
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("no cluster member address given");
        }
        ClientConfig config = new ClientConfig();
        config.setClusterName(clusterName);
        config.setInstanceName("pagepool-view-" + Long.toHexString(System.nanoTime()));
        config.getNetworkConfig().setAddresses(List.copyOf(addresses)).setSmartRouting(true);
        ClientConnectionStrategyConfig strategy = config.getConnectionStrategyConfig()
            .setAsyncStart(true)
            .setReconnectMode(ClientConnectionStrategyConfig.ReconnectMode.ON);
        strategy.getConnectionRetryConfig()
            .setInitialBackoffMillis(250)
            .setMaxBackoffMillis(2000)
            .setMultiplier(1.5)
            .setClusterConnectTimeoutMillis(-1);
        config.getSerializationConfig().getCompactSerializationConfig().addSerializer(new DonorLoadSerializer());
        config.getMetricsConfig().setEnabled(false);
        config.setProperty(ClientProperty.HEARTBEAT_INTERVAL.getName(), Integer.toString(HEARTBEAT_INTERVAL_MILLIS));
        config.setProperty(ClientProperty.HEARTBEAT_TIMEOUT.getName(), Integer.toString(HEARTBEAT_TIMEOUT_MILLIS));
        config.setProperty(ClientProperty.INVOCATION_TIMEOUT_SECONDS.getName(), Integer.toString(INVOCATION_TIMEOUT_SECONDS));
        config.setProperty(ClusterProperty.PHONE_HOME_ENABLED.getName(), "false");
        config.setProperty(ClusterProperty.SHUTDOWNHOOK_ENABLED.getName(), "false");
        config.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "jdk");
        return config;
    }
}
