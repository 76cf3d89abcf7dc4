package dev.pagepool.agent.cli;

import dev.pagepool.client.PagePoolClient;
import dev.pagepool.protocol.Frame;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "put", description = "Puts one page (debugging) into the shared pool named by --pool-name, "
    + "where a later 'pagepool get' with the same name finds it.")
final class PutCommand implements Callable<Integer> {
    @Mixin
    DebugPageOptions page;
    @Option(names = "--file", required = true, description = "File with up to 4096 bytes (zero-padded).")
    Path file;

    @Override
    public Integer call() throws Exception {
        byte[] content = Files.readAllBytes(file);
        if (content.length > Frame.PAGE_BYTES) {
            throw new IllegalArgumentException(file + " has " + content.length + " bytes; a page holds " + Frame.PAGE_BYTES);
        }
        try (PagePoolClient client = page.connect()) {
            System.out.println(client.put(page.pool(client), page.object, page.index, Arrays.copyOf(content, Frame.PAGE_BYTES)));
        }
        return 0;
    }
}
