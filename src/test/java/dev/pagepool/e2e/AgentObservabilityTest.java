package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A real donor and a real agent, watched as an operator watches them: the agent's probes and {@code /q/metrics}
 * on its {@code --http} port say where the swap is and what the host saw, and every metric the Grafana dashboard
 * and the Prometheus alerts name exists in the donor's or the agent's scrape, so neither can drift from the code.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentObservabilityTest {
    private static final Path ROOT = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize();
    private static final long EXPORT_BYTES = 64L << 20;
    private static final int WRITTEN_BYTES = 8 << 20;
    private static final Pattern METRIC = Pattern.compile("\\b(pagepool_[a-z0-9_]+)(\\{[^}]*})?");
    private static final Pattern MATCHER = Pattern.compile("(\\w+)\\s*=\\s*\"([^\"]*)\"");

    private static DonorCluster cluster;
    private static AgentProcess agent;
    private static Path dir;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("pagepool-observe-");
        cluster = DonorCluster.start("observe", 1, "64m");
        agent = AgentProcess.start(List.of("--members", cluster.members, "--cluster-name", cluster.name,
            "--size", "64m", "--disk", dir.resolve("swap.img").toString()));
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void theAgentIsLiveAndReadyWithADonorAndAWritableDisk() throws Exception {
        HttpResponse<String> live = get("/q/health/live");
        assertEquals(200, live.statusCode(), live.body());
        assertEquals("UP", json(live).get("status").asText());
        HttpResponse<String> ready = get("/q/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        JsonNode checks = json(ready).get("checks");
        Map<String, String> byId = new LinkedHashMap<>();
        checks.forEach(c -> byId.put(c.get("id").asText(), c.get("status").asText()));
        assertEquals(Map.of("donors", "UP", "disk-file", "UP", "copies", "UP", "host-protection", "UP"), byId);
    }

    @Test
    @Order(2)
    void metricsSayWhereTheSlotsAreAndCountTheRequestsByCommand() throws Exception {
        Path in = dir.resolve("in.bin");
        Path out = dir.resolve("out.bin");
        byte[] data = new byte[WRITTEN_BYTES];
        new Random(13).nextBytes(data);
        Files.write(in, data);
        Tool.run(120, "nbdcopy", in.toString(), agent.uri()).ok();
        Tool.run(120, "nbdcopy", agent.uri(), out.toString()).ok();

        PrometheusText m = PrometheusText.scrape(agentUrl("/q/metrics"));
        long pages = WRITTEN_BYTES / 4096;
        assertEquals(pages, m.value("pagepool_agent_slots", Map.of("place", "cluster")), "random pages live in RAM");
        assertEquals(0, m.value("pagepool_agent_slots", Map.of("place", "disk")));
        assertEquals(EXPORT_BYTES / 4096 - pages, m.value("pagepool_agent_slots", Map.of("place", "nowhere")));
        assertEquals(pages, m.value("pagepool_agent_pages_written_total", Map.of()));
        assertEquals(WRITTEN_BYTES, m.value("pagepool_agent_nbd_bytes_total", Map.of("command", "write")));
        assertEquals(EXPORT_BYTES, m.value("pagepool_agent_nbd_bytes_total", Map.of("command", "read")),
            "nbdcopy read the whole export");
        assertTrue(m.value("pagepool_agent_nbd_request_seconds_count", Map.of("command", "write")) > 0);
        assertTrue(m.value("pagepool_agent_nbd_request_seconds_count", Map.of("command", "read")) > 0);
        assertTrue(m.has("pagepool_agent_nbd_request_seconds_bucket", Map.of("command", "read", "le", "+Inf")),
            "latency is a histogram");
        assertEquals(0, m.value("pagepool_agent_eio_replies_total", Map.of("cause", "lost")));
        assertEquals(1, m.value("pagepool_agent_donors", Map.of("state", "up")));
        assertEquals(0, m.value("pagepool_agent_donors", Map.of("state", "down")));
    }

    @Test
    @Order(3)
    void everyMetricTheDashboardAndTheAlertsNameExists() throws Exception {
        // Give every meter a sample first: the donor's request timers exist from the start, the agent's too.
        PrometheusText scraped = PrometheusText.scrape(agentUrl("/q/metrics"))
            .plus(PrometheusText.scrape(cluster.donor(0).httpUrl() + "/q/metrics"));
        List<String> expressions = new ArrayList<>();
        collectExpressions(new ObjectMapper().readTree(ROOT.resolve("deploy/grafana/pagepool.json").toFile()), expressions);
        int fromDashboard = expressions.size();
        collectExpressions(new YAMLMapper().readTree(ROOT.resolve("deploy/prometheus/alerts.yaml").toFile()), expressions);
        assertTrue(fromDashboard >= 10 && expressions.size() - fromDashboard >= 5,
            "the dashboard's panels and the alert rules were read: " + expressions);
        TreeSet<String> missing = new TreeSet<>();
        TreeSet<String> named = new TreeSet<>();
        for (String expr : expressions) {
            Matcher m = METRIC.matcher(expr);
            while (m.find()) {
                Map<String, String> labels = new LinkedHashMap<>();
                if (m.group(2) != null) {
                    Matcher l = MATCHER.matcher(m.group(2));
                    while (l.find()) {
                        labels.put(l.group(1), l.group(2));
                    }
                }
                named.add(m.group(1));
                if (!scraped.has(m.group(1), labels)) {
                    missing.add(m.group(1) + labels);
                }
            }
        }
        assertTrue(named.size() >= 20, "metrics named: " + named);
        assertEquals(new TreeSet<>(), missing, "named by the dashboard or the alerts but not exposed");
    }

    @Test
    @Order(4)
    void readinessGoesDownWhenNoDonorIsReachable() throws Exception {
        cluster.donor(0).kill();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        HttpResponse<String> ready = get("/q/health/ready");
        while (ready.statusCode() == 200 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            ready = get("/q/health/ready");
        }
        assertEquals(503, ready.statusCode(), ready.body());
        assertEquals("DOWN", json(ready).get("status").asText());
        assertEquals(200, get("/q/health/live").statusCode(), "still live: the export is served, from disk");
        PrometheusText m = PrometheusText.scrape(agentUrl("/q/metrics"));
        assertEquals(0, m.value("pagepool_agent_donors", Map.of("state", "up")));
    }

    @Test
    @Order(5)
    void readinessGoesDownWhenTheDiskFileIsGone() throws Exception {
        Files.delete(dir.resolve("swap.img"));
        HttpResponse<String> ready = get("/q/health/ready");
        assertEquals(503, ready.statusCode(), ready.body());
        boolean diskDown = false;
        for (JsonNode c : json(ready).get("checks")) {
            diskDown |= c.get("id").asText().equals("disk-file") && c.get("status").asText().equals("DOWN");
        }
        assertTrue(diskDown, ready.body());
    }

    private static void collectExpressions(JsonNode node, List<String> into) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> {
                if (e.getKey().equals("expr") && e.getValue().isTextual()) {
                    into.add(e.getValue().asText());
                } else {
                    collectExpressions(e.getValue(), into);
                }
            });
        } else if (node.isArray()) {
            node.forEach(n -> collectExpressions(n, into));
        }
    }

    private static String agentUrl(String path) {
        return "http://127.0.0.1:" + agent.httpPort + path;
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(agentUrl(path)))
            .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return new ObjectMapper().readTree(r.body());
    }
}
