package dev.pagepool.e2e.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests under {@code k8s/} against what the donor really serves and reads: probe paths and
 * ports, env keys, discovery settings, memory budget, drain hook, disruption budget. Parses every manifest into
 * typed fabric8 objects; derives the app's config keys from its sources ({@link AppConfigKeys}).
 */
class ManifestsTest {
    private static final long MIB = 1L << 20;
    /** Metaspace, thread stacks, code cache, GC structures: what a JVM needs besides heap and direct memory. */
    private static final long JVM_OVERHEAD = 128 * MIB;
    /** Env vars that are not app config keys but are read by the container's command line. */
    private static final Set<String> LAUNCHER_ENV = Set.of("JAVA_OPTS");

    private static Path root;
    private static Manifests manifests;
    private static AppConfigKeys app;
    private static DaemonSet daemonSet;
    private static Container donor;
    private static Map<String, String> env;

    @BeforeAll
    static void load() throws IOException {
        root = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize();
        manifests = Manifests.load(root.resolve("k8s"));
        app = AppConfigKeys.of(root);
        daemonSet = manifests.one(DaemonSet.class);
        List<Container> containers = daemonSet.getSpec().getTemplate().getSpec().getContainers();
        assertEquals(1, containers.size(), "one donor container per pod");
        donor = containers.get(0);
        env = effectiveEnv();
    }

    @Test
    void configKeyReaderFindsTheContractKeys() {
        for (String key : List.of("pagepool.node.data-port", "pagepool.node.capacity", "pagepool.node.reserve",
            "pagepool.cluster.name", "pagepool.cluster.members", "pagepool.cluster.port", "pagepool.auth.token")) {
            assertTrue(app.mapped.containsKey(key), key + " not found in NodeConfig: " + app.mapped.keySet());
        }
        assertEquals("7410", app.mapped.get("pagepool.node.data-port"));
        assertEquals("PAGEPOOL_NODE_DATA_PORT", AppConfigKeys.envName("pagepool.node.data-port"));
        assertEquals("max-inflight-per-connection", AppConfigKeys.kebab("maxInflightPerConnection"));
        assertTrue(app.applicationProperties.containsKey("quarkus.http.port"));
    }

    @Test
    void everyManifestIsATypedObjectInTheNamespaceAndListedInTheKustomization() {
        assertFalse(manifests.objects.isEmpty(), "no manifests under " + manifests.dir);
        for (HasMetadata object : manifests.objects) {
            if (!object.getKind().equals("Namespace")) {
                assertEquals("pagepool", object.getMetadata().getNamespace(), object.getKind() + " " + object.getMetadata().getName());
            }
        }
        assertNotNull(manifests.kustomization, "k8s/" + Manifests.KUSTOMIZATION + " lets operators apply everything with -k");
        Set<String> listed = new TreeSet<>();
        manifests.kustomization.path("resources").forEach(r -> listed.add(r.asText()));
        Set<String> present = new TreeSet<>();
        for (Path file : manifests.files) {
            String name = manifests.dir.relativize(file).toString();
            if (!name.equals(Manifests.KUSTOMIZATION)) {
                present.add(name);
            }
        }
        assertEquals(present, listed, "kustomization resources vs manifest files");
    }

    @Test
    void probesHitTheHealthEndpointsOnTheHttpPort() {
        int httpPort = httpPort();
        String health = healthRoot();
        assertProbe(donor.getLivenessProbe(), "liveness", health + "/" + healthPath("liveness-path", "live"), httpPort);
        assertProbe(donor.getReadinessProbe(), "readiness", health + "/" + healthPath("readiness-path", "ready"), httpPort);
        if (donor.getStartupProbe() != null) {
            assertProbe(donor.getStartupProbe(), "startup", health + "/" + healthPath("liveness-path", "live"), httpPort);
        }
        assertEquals("/q/health/live", health + "/" + healthPath("liveness-path", "live"), "the contract's path");
        assertEquals("/q/health/ready", health + "/" + healthPath("readiness-path", "ready"), "the contract's path");
    }

    @Test
    void everyEnvKeyIsAConfigKeyTheAppReads() {
        List<String> problems = new ArrayList<>();
        Map<String, String> all = new LinkedHashMap<>();
        manifests.all(ConfigMap.class).forEach(cm -> all.putAll(cm.getData()));
        donor.getEnv().forEach(e -> all.put(e.getName(), e.getValue()));
        for (String key : all.keySet()) {
            if (LAUNCHER_ENV.contains(key)) {
                continue;
            }
            if (key.startsWith("QUARKUS_") && !key.startsWith("QUARKUS_HTTP_") && !key.startsWith("QUARKUS_LOG_")) {
                problems.add(key + ": only quarkus.http.* and quarkus.log.* belong in the deployment");
            }
            if (!key.startsWith("PAGEPOOL_") && !key.startsWith("QUARKUS_")) {
                problems.add(key + ": neither a pagepool nor a quarkus key");
                continue;
            }
            if (app.propertyForEnv(key).isEmpty()) {
                problems.add(key + ": no such key in NodeConfig or application.properties");
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertTrue(env.containsKey("PAGEPOOL_NODE_CAPACITY"), "the donor's capacity is set explicitly");
    }

    @Test
    void hazelcastDiscoveryUsesTheHeadlessServiceThatSelectsTheDonors() {
        Service service = headlessService();
        assertEquals("None", service.getSpec().getClusterIP(), "headless: DNS returns every pod, not a virtual IP");
        assertEquals(Boolean.TRUE, service.getSpec().getPublishNotReadyAddresses(),
            "donors are unready until they join, so DNS must list unready pods or no donor ever finds another");
        Map<String, String> podLabels = daemonSet.getSpec().getTemplate().getMetadata().getLabels();
        assertSelects(service.getSpec().getSelector(), podLabels, "Service " + service.getMetadata().getName());

        String dns = env.get("PAGEPOOL_CLUSTER_KUBERNETES_SERVICE_DNS");
        assertNotNull(dns, "PAGEPOOL_CLUSTER_KUBERNETES_SERVICE_DNS turns on Kubernetes discovery");
        assertTrue(app.mapped.containsKey("pagepool.cluster.kubernetes.service-dns"), "the app reads the DNS key");
        String name = service.getMetadata().getName();
        String ns = service.getMetadata().getNamespace();
        assertTrue(Set.of(name + "." + ns + ".svc.cluster.local", name + "." + ns + ".svc", name + "." + ns).contains(dns),
            "service DNS " + dns + " is not the name of Service " + ns + "/" + name);
        assertFalse(env.containsKey("PAGEPOOL_CLUSTER_MEMBERS"), "members are found through DNS, not listed");

        int clusterPort = intSetting("pagepool.cluster.port");
        assertEquals(clusterPort, servicePort(service, "hazelcast").getPort(), "Service port for Hazelcast");
        assertEquals(clusterPort, resolvePort(servicePort(service, "hazelcast").getTargetPort()), "targetPort for Hazelcast");
        int dataPort = intSetting("pagepool.node.data-port");
        assertEquals(dataPort, servicePort(service, "data").getPort(), "Service port for data");
        assertEquals(dataPort, resolvePort(servicePort(service, "data").getTargetPort()), "targetPort for data");
        assertEquals(dataPort, containerPort("data").getContainerPort());
        assertEquals(clusterPort, containerPort("hazelcast").getContainerPort());
    }

    @Test
    void theDataPortOnThePodNetworkRequiresATokenFromASecret() throws Exception {
        String dataHost = env.getOrDefault("PAGEPOOL_NODE_DATA_HOST", app.defaultOf("pagepool.node.data-host").orElse("127.0.0.1"));
        assertEquals(dataHost, "0.0.0.0", "clients on other blades reach the data port");
        assertFalse(InetAddress.getByName(dataHost).isLoopbackAddress());
        EnvVar token = donor.getEnv().stream().filter(e -> e.getName().equals("PAGEPOOL_AUTH_TOKEN")).findFirst()
            .orElseThrow(() -> new AssertionError("PAGEPOOL_AUTH_TOKEN is required when the data port is not loopback"));
        assertNotNull(token.getValueFrom(), "the token comes from a Secret");
        assertNotNull(token.getValueFrom().getSecretKeyRef(), "the token comes from a Secret");
        manifests.all(ConfigMap.class).forEach(cm -> assertFalse(cm.getData().containsKey("PAGEPOOL_AUTH_TOKEN"),
            "no token in a ConfigMap"));
        String bind = env.getOrDefault("QUARKUS_HTTP_HOST", app.defaultOf("quarkus.http.host").orElse("0.0.0.0"));
        assertFalse(InetAddress.getByName(bind).isLoopbackAddress(), "the kubelet's probes reach the http port");
    }

    @Test
    void memoryLimitCoversCapacityReserveHeapAndDirectMemory() {
        long capacity = memorySize(setting("pagepool.node.capacity"));
        long reserve = memorySize(setting("pagepool.node.reserve"));
        String javaOpts = env.getOrDefault("JAVA_OPTS", "");
        long heap = memorySize(jvmOption(javaOpts, "-Xmx")
            .orElseThrow(() -> new AssertionError("set -Xmx in JAVA_OPTS: the default heap is a quarter of the limit")));
        long direct = memorySize(jvmOption(javaOpts, "-XX:MaxDirectMemorySize=")
            .orElseThrow(() -> new AssertionError("set -XX:MaxDirectMemorySize in JAVA_OPTS")));
        Quantity limitQuantity = donor.getResources().getLimits().get("memory");
        assertNotNull(limitQuantity, "a memory limit");
        long limit = Quantity.getAmountInBytes(limitQuantity).longValueExact();
        String figures = "limit " + limit / MIB + "Mi, capacity " + capacity / MIB + "Mi, reserve " + reserve / MIB
            + "Mi, heap " + heap / MIB + "Mi, direct " + direct / MIB + "Mi";
        assertTrue(limit >= capacity + reserve + heap + JVM_OVERHEAD, figures);
        assertTrue(direct >= capacity + reserve, "direct memory holds the pages and the reserve: " + figures);
        assertTrue(heap + direct + JVM_OVERHEAD <= limit, "heap + direct + JVM overhead fit the limit: " + figures);
        Quantity request = donor.getResources().getRequests().get("memory");
        assertNotNull(request, "a memory request");
        assertEquals(limit, Quantity.getAmountInBytes(request).longValueExact(),
            "request = limit: the scheduler reserves what the donor gives away");
        assertTrue(donor.getCommand().stream().anyMatch(c -> c.contains("$JAVA_OPTS") || c.contains("${JAVA_OPTS}")),
            "the command line passes JAVA_OPTS to java");
    }

    @Test
    void preStopDrainsTheDonorWithItsTokenWithinTheGracePeriod() throws IOException {
        assertNotNull(donor.getLifecycle(), "a lifecycle with preStop");
        assertNotNull(donor.getLifecycle().getPreStop().getExec(), "preStop runs a command in the container");
        String command = String.join(" ", donor.getLifecycle().getPreStop().getExec().getCommand());
        assertTrue(command.contains("/admin/drain"), command);
        assertTrue(command.contains("-X POST") || command.contains("--request POST") || command.contains("--post"),
            "POST /admin/drain: " + command);
        assertTrue(command.contains("Authorization: Bearer ${PAGEPOOL_ADMIN_TOKEN}")
            || command.contains("Authorization: Bearer $PAGEPOOL_ADMIN_TOKEN"),
            "a drain needs the admin token: the data token every agent host holds cannot drain: " + command);
        assertTrue(donor.getEnv().stream().anyMatch(e -> e.getName().equals("PAGEPOOL_ADMIN_TOKEN")
                && e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null),
            "the admin token comes from a secret");
        Matcher url = Pattern.compile("https?://[^/:]+:(\\d+)/admin/drain").matcher(command);
        assertTrue(url.find(), "drain URL with an explicit port: " + command);
        assertEquals(httpPort(), Integer.parseInt(url.group(1)), "drain goes to the http port");
        Matcher maxTime = Pattern.compile("(?:-m|--max-time)\\s+(\\d+)").matcher(command);
        assertTrue(maxTime.find(), "the drain call is bounded (curl -m): " + command);
        long grace = daemonSet.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
        assertTrue(Long.parseLong(maxTime.group(1)) + 15 <= grace,
            "terminationGracePeriodSeconds " + grace + " covers the drain (" + maxTime.group(1) + " s) and shutdown");
        if (command.startsWith("curl") || command.contains(" curl ")) {
            String dockerfile = Files.readString(manifests.dir.resolve("Dockerfile"));
            assertTrue(dockerfile.contains("curl"), "the image has curl for the preStop hook");
        }
    }

    @Test
    void disruptionBudgetLetsOneDonorGoAtATime() {
        PodDisruptionBudget pdb = manifests.one(PodDisruptionBudget.class);
        assertSelects(pdb.getSpec().getSelector().getMatchLabels(),
            daemonSet.getSpec().getTemplate().getMetadata().getLabels(), "PodDisruptionBudget");
        assertEquals(new IntOrString(1), pdb.getSpec().getMaxUnavailable());
        assertSelects(daemonSet.getSpec().getSelector().getMatchLabels(),
            daemonSet.getSpec().getTemplate().getMetadata().getLabels(), "DaemonSet selector");
    }

    @Test
    void theContainerRunsTheQuarkusFastJarFromTheDonorImage() throws IOException {
        assertEquals("pagepool/node:0.1.0", donor.getImage());
        assertTrue(String.join(" ", donor.getCommand()).contains("java") && String.join(" ", donor.getCommand())
            .contains("-jar /app/quarkus-run.jar"), String.join(" ", donor.getCommand()));
        String dockerfile = Files.readString(manifests.dir.resolve("Dockerfile"));
        assertTrue(dockerfile.contains("node/target/quarkus-app"), "the image is built from the node's quarkus-app");
        assertTrue(dockerfile.contains("/app/"), "and puts it in /app");
    }

    // ---- helpers

    /** ConfigMap data (envFrom) overlaid with the container's literal env values. */
    private static Map<String, String> effectiveEnv() {
        Map<String, String> values = new HashMap<>();
        Map<String, ConfigMap> byName = new HashMap<>();
        manifests.all(ConfigMap.class).forEach(cm -> byName.put(cm.getMetadata().getName(), cm));
        if (donor.getEnvFrom() != null) {
            donor.getEnvFrom().forEach(source -> {
                if (source.getConfigMapRef() != null) {
                    ConfigMap cm = byName.get(source.getConfigMapRef().getName());
                    assertNotNull(cm, "envFrom ConfigMap " + source.getConfigMapRef().getName() + " is in k8s/");
                    values.putAll(cm.getData());
                }
            });
        }
        donor.getEnv().forEach(e -> {
            if (e.getValue() != null) {
                values.put(e.getName(), e.getValue());
            } else {
                values.put(e.getName(), "<from " + e.getValueFrom() + ">");
            }
        });
        return values;
    }

    /** The value the running donor sees: the deployment's env, else application.properties, else NodeConfig default. */
    private static String setting(String property) {
        String value = env.get(AppConfigKeys.envName(property));
        if (value != null) {
            return value;
        }
        return app.defaultOf(property).orElseThrow(() -> new AssertionError(property + " has no value and no default"));
    }

    private static int intSetting(String property) {
        return Integer.parseInt(setting(property).trim());
    }

    private static int httpPort() {
        int configured = intSetting("quarkus.http.port");
        assertEquals(configured, containerPort("http").getContainerPort(), "container http port = quarkus.http.port");
        return configured;
    }

    private static String healthRoot() {
        Properties props = app.applicationProperties;
        assertFalse(Boolean.parseBoolean(props.getProperty("quarkus.management.enabled", "false")),
            "health moved to the management port: update the probes' port");
        String nonApp = props.getProperty("quarkus.http.non-application-root-path", "q").replaceAll("^/|/$", "");
        String root = props.getProperty("quarkus.smallrye-health.root-path", "health").replaceAll("^/|/$", "");
        String rootPath = props.getProperty("quarkus.http.root-path", "/").replaceAll("/$", "");
        return rootPath + "/" + nonApp + "/" + root;
    }

    private static String healthPath(String key, String fallback) {
        return app.applicationProperties.getProperty("quarkus.smallrye-health." + key, fallback).replaceAll("^/", "");
    }

    private static void assertProbe(Probe probe, String kind, String path, int httpPort) {
        assertNotNull(probe, kind + " probe");
        HTTPGetAction get = probe.getHttpGet();
        assertNotNull(get, kind + " probe is an HTTP GET");
        assertEquals(path, get.getPath(), kind + " probe path");
        assertEquals(httpPort, resolvePort(get.getPort()), kind + " probe port");
    }

    private static ContainerPort containerPort(String name) {
        return donor.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
            .orElseThrow(() -> new AssertionError("container port named " + name));
    }

    private static int resolvePort(IntOrString port) {
        assertNotNull(port, "a port");
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return containerPort(port.getStrVal()).getContainerPort();
    }

    private static Service headlessService() {
        List<Service> headless = manifests.all(Service.class).stream()
            .filter(s -> "None".equals(s.getSpec().getClusterIP())).toList();
        if (headless.size() != 1) {
            fail("expected one headless Service, found " + headless.size());
        }
        return headless.get(0);
    }

    private static ServicePort servicePort(Service service, String name) {
        return service.getSpec().getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
            .orElseThrow(() -> new AssertionError("Service port named " + name));
    }

    private static void assertSelects(Map<String, String> selector, Map<String, String> labels, String who) {
        assertNotNull(selector, who + " selector");
        assertFalse(selector.isEmpty(), who + " selects something");
        selector.forEach((k, v) -> assertEquals(v, labels.get(k), who + " selects pod label " + k));
    }

    private static Optional<String> jvmOption(String javaOpts, String prefix) {
        for (String option : javaOpts.trim().split("\\s+")) {
            if (option.startsWith(prefix)) {
                return Optional.of(option.substring(prefix.length()));
            }
        }
        return Optional.empty();
    }

    /** Quarkus MemorySize and JVM sizes: a number with an optional binary suffix k, m, g, t. */
    static long memorySize(String text) {
        Matcher m = Pattern.compile("(\\d+)([kmgt]?)b?").matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new AssertionError("not a memory size: " + text);
        }
        int shift = switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        return new BigDecimal(m.group(1)).longValueExact() << shift;
    }
}
