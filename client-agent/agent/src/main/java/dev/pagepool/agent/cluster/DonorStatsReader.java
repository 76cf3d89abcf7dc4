package dev.pagepool.agent.cluster;

import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.discovery.DonorInfo;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Asks donors for their STATS over the data protocol, with one client kept while the set of donors stays the
 * same (a {@code --watch} then opens no new connection per refresh) and made anew when it changes.
 */
public final class DonorStatsReader implements AutoCloseable {
    /** STATS of one donor, or why it could not be had. */
    public record Result(Map<String, Long> stats, String error) {
    }

    private final String token;
    private List<String> addresses = List.of();
    private PagePoolClient client;

    public DonorStatsReader(String token) {
        this.token = token;
    }

    /** One result per donor, in the order given. */
    public List<Result> read(List<DonorInfo> donors) {
        List<String> wanted = donors.stream().map(DonorInfo::dataAddress).toList();
        List<Result> results = new ArrayList<>(donors.size());
        if (donors.isEmpty()) {
            close();
            return results;
        }
        try {
            connectTo(donors, wanted);
        } catch (RuntimeException e) {
            donors.forEach(d -> results.add(new Result(Map.of(), "no donor answered: " + e.getMessage())));
            return results;
        }
        for (int i = 0; i < donors.size(); i++) {
            try {
                results.add(new Result(client.stats(i), null));
            } catch (RuntimeException e) {
                results.add(new Result(Map.of(), String.valueOf(e.getMessage())));
            }
        }
        return results;
    }

    private void connectTo(List<DonorInfo> donors, List<String> wanted) {
        if (client != null && wanted.equals(addresses)) {
            return;
        }
        close();
        List<InetSocketAddress> nodes = donors.stream()
            .map(d -> InetSocketAddress.createUnresolved(d.host(), d.dataPort())).toList();
        client = PagePoolClient.connect(ClientConfig.of(nodes, token));
        addresses = wanted;
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
            client = null;
            addresses = List.of();
        }
    }
}
