package dev.pagepool.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "stats", description = "Prints a donor's statistics (GET /admin/stats).")
final class StatsCommand implements Callable<Integer> {
    @Option(names = "--http", required = true, description = "The donor's HTTP endpoint, HOST:PORT.")
    String http;
    @Option(names = "--token", defaultValue = "${env:PAGEPOOL_TOKEN:-}", description = "Cluster token (env PAGEPOOL_TOKEN).")
    String token;
    @Option(names = "--json", description = "Print the JSON as the donor sent it.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + http + "/admin/stats"))
            .timeout(Duration.ofSeconds(5)).GET();
        if (!token.isEmpty()) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            System.err.println("pagepool: " + http + " answered " + r.statusCode() + ": " + r.body());
            return 1;
        }
        if (json) {
            System.out.println(r.body());
            return 0;
        }
        JsonNode stats = new ObjectMapper().readTree(r.body());
        for (Iterator<Map.Entry<String, JsonNode>> it = stats.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            long v = e.getValue().asLong();
            String human = e.getKey().endsWith("_bytes") ? String.format("  (%.1f MiB)", v / 1048576.0) : "";
            System.out.printf("%-22s %,d%s%n", e.getKey(), v, human);
        }
        return 0;
    }
}
