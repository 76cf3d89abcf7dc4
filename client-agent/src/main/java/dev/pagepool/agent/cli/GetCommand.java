package dev.pagepool.agent.cli;

import dev.pagepool.agent.client.ClientConfig;
import dev.pagepool.agent.client.PagePoolClient;
import dev.pagepool.agent.client.PageStatus;
import dev.pagepool.protocol.Frame;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "get", description = "Gets one page put by 'pagepool put' (debugging); exit 3 on a miss.")
final class GetCommand implements Callable<Integer> {
    @Option(names = "--nodes", required = true, description = "Donors' data endpoints HOST:PORT,...")
    String nodes;
    @Option(names = "--pool-name", defaultValue = "debug")
    String poolName;
    @Option(names = "--object", required = true)
    long object;
    @Option(names = "--index", required = true)
    int index;
    @Option(names = "--out", required = true, description = "Where to write the 4096 bytes.")
    Path out;
    @Option(names = "--token", defaultValue = "${env:PAGEPOOL_TOKEN:-}")
    String token;

    @Override
    public Integer call() throws Exception {
        byte[] page = new byte[Frame.PAGE_BYTES];
        try (PagePoolClient client = PagePoolClient.connect(ClientConfig.of(ClientConfig.parseNodes(nodes), token))) {
            PageStatus status = client.get(PutCommand.debugPool(client, poolName), object, index, false, page);
            System.out.println(status);
            if (status != PageStatus.OK) {
                return 3;
            }
        }
        Files.write(out, page);
        return 0;
    }
}
