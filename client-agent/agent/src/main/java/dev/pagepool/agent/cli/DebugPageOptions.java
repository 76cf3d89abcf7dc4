package dev.pagepool.agent.cli;

import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PoolRef;
import dev.pagepool.protocol.PoolSpec;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import picocli.CommandLine.Option;

/**
 * Where {@code pagepool put} and {@code get} find a page: a shared persistent pool whose UUID derives from
 * {@code --pool-name}. A shared pool, because a private one belongs to a client id and would be gone for the
 * next invocation once the donor's lease ran out; joining by name lets two invocations meet.
 */
final class DebugPageOptions {
    @Option(names = "--nodes", required = true, description = "Donors' data endpoints HOST:PORT,...")
    String nodes;
    @Option(names = "--pool-name", defaultValue = "debug", description = "Shared pool name; its UUID is derived from it.")
    String poolName;
    @Option(names = "--object", required = true)
    long object;
    @Option(names = "--index", required = true)
    int index;
    @Option(names = "--token", defaultValue = "${env:PAGEPOOL_TOKEN:-}", description = "Cluster token (env PAGEPOOL_TOKEN).")
    String token;

    PagePoolClient connect() {
        return PagePoolClient.connect(ClientConfig.of(ClientConfig.parseNodes(nodes), token));
    }

    PoolRef pool(PagePoolClient client) {
        UUID uuid = UUID.nameUUIDFromBytes(("pagepool-debug:" + poolName).getBytes(StandardCharsets.UTF_8));
        return client.newPool(PoolSpec.sharedPool(true, uuid));
    }
}
