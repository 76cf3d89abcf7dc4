package dev.pagepool.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Where the export is served: a root-only Unix socket unless TCP is asked for, and TCP off loopback is warned of. */
class ExportAddressTest {
    @Test
    void byDefaultTheExportIsAUnixSocketUnderRunPagepoolNamedAfterIt() {
        ExportAddress at = ExportAddress.choose(null, null, "pagepool");
        assertTrue(at.address().isDomainSocket());
        assertEquals("/run/pagepool/pagepool.sock", at.address().path());
        assertEquals("nbd+unix:///pagepool?socket=/run/pagepool/pagepool.sock", at.uri(0));
        assertEquals("/run/pagepool/swap2.sock", ExportAddress.choose(null, null, "swap2").address().path());
    }

    @Test
    void socketChoosesAnotherPath() {
        ExportAddress at = ExportAddress.choose(null, Path.of("/var/run/x/../agent.sock"), "pagepool");
        assertEquals("/var/run/agent.sock", at.address().path());
        assertEquals("nbd+unix:///pagepool?socket=/var/run/agent.sock", at.uri(0));
    }

    @Test
    void nbdServesTcp() {
        ExportAddress at = ExportAddress.choose("127.0.0.1:0", null, "pagepool");
        assertEquals("127.0.0.1", at.address().host());
        assertEquals("nbd://127.0.0.1:41234/pagepool", at.uri(41234));
        assertEquals("nbd://[::1]:10809/pagepool", ExportAddress.choose("[::1]:10809", null, "pagepool").uri(10809));
    }

    @Test
    void bothOrAnExportNameThatCannotNameAFileAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ExportAddress.choose("127.0.0.1:1", Path.of("/tmp/s"), "p"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ExportAddress.choose(null, null, "../etc/x"));
        assertTrue(e.getMessage().contains("--socket"), e.getMessage());
        assertEquals("/tmp/s", ExportAddress.choose(null, Path.of("/tmp/s"), "../etc/x").address().path());
    }

    @Test
    void tcpOffLoopbackIsWarnedOf() {
        assertEquals("", warning("127.0.0.1:10809"));
        assertEquals("", warning("localhost:10809"));
        assertEquals("", warning("[::1]:10809"));
        assertTrue(warning("0.0.0.0:10809").startsWith("WARNING: the NBD export is served on 0.0.0.0, not loopback"));
        assertTrue(warning("10.1.2.3:10809").contains("reads and writes this host's swap"));
    }

    private static String warning(String nbd) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ExportAddress.choose(nbd, null, "pagepool").warnIfExposed(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
