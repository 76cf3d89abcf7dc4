package dev.pagepool.agent.cli;

import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.protocol.Frame;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "get", description = "Gets one page put by 'pagepool put' (debugging); exit 3 on a miss.")
final class GetCommand implements Callable<Integer> {
    @Mixin
    DebugPageOptions page;
    @Option(names = "--out", required = true, description = "Where to write the 4096 bytes.")
    Path out;

    @Override
    public Integer call() throws Exception {
        byte[] data = new byte[Frame.PAGE_BYTES];
        try (PagePoolClient client = page.connect()) {
            PageStatus status = client.get(page.pool(client), page.object, page.index, false, data);
            System.out.println(status);
            if (status != PageStatus.OK) {
                return 3;
            }
        }
        Files.write(out, data);
        return 0;
    }
}
