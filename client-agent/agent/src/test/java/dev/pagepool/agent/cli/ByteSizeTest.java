package dev.pagepool.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ByteSizeTest {
    @Test
    void operatorsSizesParseInBinaryUnits() {
        assertEquals(4096, ByteSize.parse("4096").bytes());
        assertEquals(512L << 10, ByteSize.parse("512k").bytes());
        assertEquals(256L << 20, ByteSize.parse("256m").bytes());
        assertEquals(256L << 20, ByteSize.parse("256MiB").bytes());
        assertEquals(8L << 30, ByteSize.parse(" 8G ").bytes());
        assertEquals(1L << 40, ByteSize.parse("1t").bytes());
    }

    @Test
    void nonsenseIsRefusedWithAnExample() {
        for (String bad : new String[] {"", "m", "-1m", "12x", "1.5g", "99999999999999999999"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(bad), bad);
            assertTrue(e.getMessage().contains("size"), e.getMessage());
        }
    }
}
