package dev.pagepool.agent.cli;

import dev.pagepool.agent.client.ClientConfig;
import dev.pagepool.agent.client.PagePoolClient;
import dev.pagepool.agent.client.PoolRef;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.PoolSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "put", description = "Puts one page (debugging). Uses a shared persistent pool named by --pool-name, "
    + "so that a later 'pagepool get' with the same name finds it.")
final class PutCommand implements Callable<Integer> {
    @Option(names = "--nodes", required = true, description = "Donors' data endpoints HOST:PORT,...")
    String nodes;
    @Option(names = "--pool-name", defaultValue = "debug", description = "Shared pool name; its UUID is derived from it.")
    String poolName;
    @Option(names = "--object", required = true)
    long object;
    @Option(names = "--index", required = true)
    int index;
    @Option(names = "--file", required = true, description = "File with up to 4096 bytes (zero-padded).")
    Path file;
    @Option(names = "--token", defaultValue = "${env:PAGEPOOL_TOKEN:-}")
    String token;

    static PoolRef debugPool(PagePoolClient client, String name) {
        UUID uuid = UUID.nameUUIDFromBytes(("pagepool-debug:" + name).getBytes(StandardCharsets.UTF_8));
        return client.newPool(PoolSpec.sharedPool(true, uuid));
    }

    @Override
    public Integer call() throws Exception {
        byte[] content = Files.readAllBytes(file);
        if (content.length > Frame.PAGE_BYTES) {
            throw new IllegalArgumentException(file + " has " + content.length + " bytes; a page holds " + Frame.PAGE_BYTES);
        }
        byte[] page = java.util.Arrays.copyOf(content, Frame.PAGE_BYTES);
        try (PagePoolClient client = PagePoolClient.connect(ClientConfig.of(ClientConfig.parseNodes(nodes), token))) {
            System.out.println(client.put(debugPool(client, poolName), object, index, page));
        }
        return 0;
    }
}
