package dev.pagepool.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.spi.properties.ClusterProperty;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemberConfigFactoryTest {
    private static final DonorEndpoint ENDPOINT = new DonorEndpoint("d1", "10.1.2.3", 7410, 8080);

    @Test
    void tcpIpJoinWithFastFailureDetectionAndNoSurprises() {
        Config config = MemberConfigFactory.create(
            ClusterSettings.tcpIp("pagepool", List.of("127.0.0.1:5701", "127.0.0.1:5702"), 5702), ENDPOINT);
        assertEquals("pagepool", config.getClusterName());
        JoinConfig join = config.getNetworkConfig().getJoin();
        assertFalse(join.getMulticastConfig().isEnabled());
        assertFalse(join.getAutoDetectionConfig().isEnabled());
        assertFalse(join.getKubernetesConfig().isEnabled());
        assertTrue(join.getTcpIpConfig().isEnabled());
        assertEquals(List.of("127.0.0.1:5701", "127.0.0.1:5702"), join.getTcpIpConfig().getMembers());
        assertEquals(5702, config.getNetworkConfig().getPort());
        assertTrue(config.getNetworkConfig().getInterfaces().isEnabled(), "loopback cluster binds to loopback");
        assertEquals("false", property(config, ClusterProperty.SOCKET_BIND_ANY));
        assertEquals("false", property(config, ClusterProperty.PHONE_HOME_ENABLED));
        assertEquals("false", property(config, ClusterProperty.SHUTDOWNHOOK_ENABLED));
        assertEquals("0", property(config, ClusterProperty.WAIT_SECONDS_BEFORE_JOIN));
        assertEquals("23", property(config, ClusterProperty.PARTITION_COUNT));
        assertEquals("1", property(config, ClusterProperty.HEARTBEAT_INTERVAL_SECONDS));
        assertEquals("5", property(config, ClusterProperty.MAX_NO_HEARTBEAT_SECONDS));
        assertEquals("jdk", property(config, ClusterProperty.LOGGING_TYPE));
        assertEquals(ENDPOINT.toAttributes(), config.getMemberAttributeConfig().getAttributes());
    }

    @Test
    void kubernetesDnsDiscoveryReplacesTcpIp() {
        ClusterSettings settings = new ClusterSettings("pagepool", List.of(), 5701,
            "pagepool-hz.pagepool.svc.cluster.local", Duration.ofSeconds(1), Duration.ofSeconds(5));
        Config config = MemberConfigFactory.create(settings, ENDPOINT);
        JoinConfig join = config.getNetworkConfig().getJoin();
        assertFalse(join.getTcpIpConfig().isEnabled());
        assertFalse(join.getMulticastConfig().isEnabled());
        assertTrue(join.getKubernetesConfig().isEnabled());
        assertEquals("pagepool-hz.pagepool.svc.cluster.local", join.getKubernetesConfig().getProperty("service-dns"));
        assertEquals("5701", join.getKubernetesConfig().getProperty("service-port"));
        assertFalse(config.getNetworkConfig().getInterfaces().isEnabled(), "pods bind to their own address");
    }

    @Test
    void failureDetectionIsConfigurable() {
        ClusterSettings settings = ClusterSettings.tcpIp("p", List.of("10.0.0.1"), 5701)
            .withFailureDetection(Duration.ofSeconds(2), Duration.ofSeconds(8));
        Config config = MemberConfigFactory.create(settings, ENDPOINT);
        assertEquals("2", property(config, ClusterProperty.HEARTBEAT_INTERVAL_SECONDS));
        assertEquals("8", property(config, ClusterProperty.MAX_NO_HEARTBEAT_SECONDS));
        assertFalse(config.getNetworkConfig().getInterfaces().isEnabled(), "a real network is not restricted");
    }

    @Test
    void impossibleSettingsAreRefusedWithEveryReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ClusterSettings(
            " ", List.of(), 0, "", Duration.ofSeconds(1), Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("name") && e.getMessage().contains("port")
            && e.getMessage().contains("failure timeout") && e.getMessage().contains("members"), e.getMessage());
    }

    @Test
    void membersAreParsedFromTheConfigForm() {
        assertEquals(List.of("10.0.0.1:5701", "10.0.0.2"), ClusterSettings.parseMembers(" 10.0.0.1:5701, ,10.0.0.2 "));
        assertEquals(List.of(), ClusterSettings.parseMembers(""));
        assertEquals("::1", MemberConfigFactory.hostOf("[::1]:5701"));
        assertEquals("127.0.0.1", MemberConfigFactory.hostOf("127.0.0.1:5701"));
        assertTrue(MemberConfigFactory.allLoopback(List.of("127.0.0.1", "localhost:5702")));
        assertFalse(MemberConfigFactory.allLoopback(List.of("127.0.0.1", "10.0.0.1")));
    }

    private static String property(Config config, com.hazelcast.spi.properties.HazelcastProperty property) {
        return config.getProperty(property.getName());
    }
}
