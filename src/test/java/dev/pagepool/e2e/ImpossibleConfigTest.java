package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.agent.launch.DonorSettings;
import org.junit.jupiter.api.Test;

/** A donor refuses to start on settings that cannot work, and says every reason at once. */
class ImpossibleConfigTest {

    @Test
    void donorRefusesToStartAndNamesEveryProblem() {
        DonorSettings impossible = Donors.lone("impossible", "", "256m")
            .with("pagepool.node.reserve", "64k")
            .with("pagepool.node.data-host", "0.0.0.0")
            .with("pagepool.node.max-inflight-per-connection", "0");
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> Donors.start(impossible).close());
        String log = e.getMessage();
        assertTrue(log.contains("exited"), "the process ends rather than serving: " + log);
        assertTrue(log.contains("impossible configuration"), log);
        assertTrue(log.contains("pagepool.node.reserve must be at least"), log);
        assertTrue(log.contains("pagepool.auth.token is empty but pagepool.node.data-host=0.0.0.0 is not loopback"), log);
        assertTrue(log.contains("pagepool.node.max-inflight-per-connection must be 1..4096"), log);
    }
}
