package dev.pagepool.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class DonorRecordsTest {
    @Test
    void donorInfoJoinsEndpointAndLoad() {
        UUID uuid = UUID.randomUUID();
        DonorInfo info = DonorInfo.of(uuid, new DonorEndpoint("d", "::1", 7410, 8080),
            new DonorLoad(1000, 400, 1, 3, 123));
        assertEquals(600, info.freeBytes());
        assertEquals("[::1]:7410", info.dataAddress());
        assertTrue(info.loadKnown());
        assertFalse(DonorInfo.of(uuid, new DonorEndpoint("d", "h", 1, 0), DonorLoad.UNKNOWN).loadKnown());
    }

    @Test
    void loadFiguresAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new DonorLoad(1, 1, 4, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new DonorLoad(-1, 1, 0, 0, 0));
        assertEquals(0, new DonorLoad(10, 20, 0, 0, 0).freeBytes());
    }
}
