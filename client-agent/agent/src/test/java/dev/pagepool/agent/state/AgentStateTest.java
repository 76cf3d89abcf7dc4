package dev.pagepool.agent.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.client.PoolSecret;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state file is resumed only when it is whole and the export's; anything else is refused, and left alone. */
class AgentStateTest {
    private static AgentState.Export export(Path dir, String name, long size) {
        return new AgentState.Export(name, size, dir.resolve("swap.img"));
    }

    @Test
    void theStateTakesUnderFourBytesASlotAtEverySize(@TempDir Path dir) {
        for (long gib : new long[] {1, 16, 64, 1024}) {
            AgentState.Export export = export(dir, "pagepool", gib << 30);
            double perSlot = (double) AgentState.bytesFor(export) / export.slots();
            // Half a byte of slot map, one of the extent's entry, two of page version; the heap's index adds at most
            // a quarter: the target is 4 in all.
            assertTrue(perSlot <= 3.55, gib + " GiB: " + perSlot + " bytes a slot");
        }
    }

    @Test
    void aStateMadeByOneAgentIsResumedByTheNextWithItsClientIdPoolSecretAndSlots(@TempDir Path dir) throws Exception {
        AgentState.Export export = export(dir, "pagepool", 64L << 20);
        Path file = AgentState.file(dir, "pagepool");
        PoolSecret secret = new PoolSecret(0x1111_2222_3333_4444L, -5);
        try (AgentState made = AgentState.create(file, export, 77, secret, 2)) {
            assertFalse(made.resumed());
            made.slots().set(5, 0b11, 2);
            made.slots().set(16_383, 0b11, 1);
        }
        assertEquals(AgentState.bytesFor(export), file.toFile().length(), "the whole layout is on the file");
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file),
            "the pool secret is read by the agent's user alone");
        try (AgentState again = AgentState.open(file, export)) {
            assertTrue(again.resumed());
            assertEquals(77, again.clientId());
            assertEquals(secret, again.poolSecret(), "the secret that opens the pools comes back with the state");
            assertEquals(2, again.replicas());
            assertEquals(2, again.slots().get(5));
            assertEquals(1, again.slots().get(16_383));
            assertEquals(0, again.slots().get(6));
        }
    }

    @Test
    void aStateOfAnotherExportSizeOrDiskFileIsRefusedAndLeftAsItWas(@TempDir Path dir) throws Exception {
        AgentState.Export export = export(dir, "pagepool", 64L << 20);
        Path file = AgentState.file(dir, "pagepool");
        AgentState.create(file, export, 1, PoolSecret.random(), 2).close();
        byte[] before = Files.readAllBytes(file);
        StateRefusedException name = assertThrows(StateRefusedException.class,
            () -> AgentState.open(file, export(dir, "other", 64L << 20)));
        assertTrue(name.getMessage().contains("export 'pagepool', not 'other'"), name.getMessage());
        assertTrue(name.getMessage().contains("--fresh"), "says what to do: " + name.getMessage());
        StateRefusedException size = assertThrows(StateRefusedException.class,
            () -> AgentState.open(file, export(dir, "pagepool", 128L << 20)));
        assertTrue(size.getMessage().contains("67108864-byte export, not 134217728"), size.getMessage());
        StateRefusedException disk = assertThrows(StateRefusedException.class,
            () -> AgentState.open(file, new AgentState.Export("pagepool", 64L << 20, dir.resolve("elsewhere.img"))));
        assertTrue(disk.getMessage().contains("its disk file is"), disk.getMessage());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(file)), "a refused state is not touched");
    }

    @Test
    void aTornStateIsRefused(@TempDir Path dir) throws Exception {
        AgentState.Export export = export(dir, "pagepool", 64L << 20);
        Path file = AgentState.file(dir, "pagepool");
        AgentState.create(file, export, 1, PoolSecret.random(), 2).close();
        byte[] whole = Files.readAllBytes(file);

        Files.write(file, java.util.Arrays.copyOf(whole, whole.length - 4096));
        assertTrue(assertThrows(StateRefusedException.class, () -> AgentState.open(file, export)).getMessage()
            .contains("torn"));

        Files.write(file, java.util.Arrays.copyOf(whole, 100));
        assertTrue(assertThrows(StateRefusedException.class, () -> AgentState.open(file, export)).getMessage()
            .contains("shorter than its header"));

        Files.write(file, whole);
        flip(file, 300); // inside the header, past the magic
        assertTrue(assertThrows(StateRefusedException.class, () -> AgentState.open(file, export)).getMessage()
            .contains("CRC32C"));

        Files.write(file, whole);
        flip(file, 0); // the magic: a file that was never finished, or not a state at all
        assertTrue(assertThrows(StateRefusedException.class, () -> AgentState.open(file, export)).getMessage()
            .contains("no magic"));

        Files.write(file, whole);
        flip(file, AgentState.HEADER_BYTES + (int) SlotPlaces.bytesFor(export.slots())); // the pool's magic
        assertTrue(assertThrows(StateRefusedException.class, () -> AgentState.open(file, export)).getMessage()
            .contains("bookkeeping is torn"));
    }

    @Test
    void aStateOfTheFormatBeforeThePoolSecretIsRefusedAndLeftAsItWas(@TempDir Path dir) throws Exception {
        AgentState.Export export = export(dir, "pagepool", 1L << 20);
        Path file = AgentState.file(dir, "pagepool");
        AgentState.create(file, export, 1, PoolSecret.random(), 1).close();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, 1), 8);
        }
        byte[] before = Files.readAllBytes(file);
        StateRefusedException old = assertThrows(StateRefusedException.class, () -> AgentState.open(file, export));
        assertTrue(old.getMessage().contains("format 1, this agent reads " + AgentState.FORMAT), old.getMessage());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(file)), "a refused state is not touched");
    }

    @Test
    void aNewStateReplacesWhateverWasThere(@TempDir Path dir) throws Exception {
        Path file = AgentState.file(dir, "pagepool");
        Files.writeString(file, "not a state");
        try (AgentState made = AgentState.create(file, export(dir, "pagepool", 1L << 20), 9, PoolSecret.random(), 1)) {
            assertFalse(made.resumed());
            assertEquals(9, made.clientId());
        }
        try (AgentState again = AgentState.open(file, export(dir, "pagepool", 1L << 20))) {
            assertEquals(9, again.clientId());
        }
    }

    private static void flip(Path file, long at) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, at);
            one.put(0, (byte) (one.get(0) ^ 0x5A)).rewind();
            ch.write(one, at);
        }
    }
}
