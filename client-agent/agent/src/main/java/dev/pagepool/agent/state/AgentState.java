package dev.pagepool.agent.state;

import dev.pagepool.client.PoolMemory;
import dev.pagepool.client.PoolSecret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The agent's state in one memory-mapped file, meant for tmpfs ({@code /run/pagepool} by default): which export it
 * serves, the client id and pool secret its pools belong to, where each slot lives, and the pool's map of copies. A store into a
 * mapped page of tmpfs is in the page cache the moment it is made, so it outlives the process at no fsync's cost;
 * swap need not outlive the host, only the agent. A restarted agent maps the same file and resumes the export.
 *
 * <p>Layout, little-endian:
 * <pre>
 *   0     HEADER_BYTES   header: magic u64 "PPSTATE1", format u32, CRC32C of bytes 16..HEADER_BYTES u32,
 *                          export size u64, slots u64, client id u64, replicas u32, extents u32,
 *                          export name (u16 length, up to 255 bytes), disk file (u16 length, up to 1023 bytes),
 *                          pool secret (u64 high, u64 low; format 2 on)
 *                        (format 3: the pool's page versions take 16 bits, not 32)
 *   HEADER_BYTES         slot map: one u64 per 16 slots, 4 bits each ({@link SlotPlaces})
 *   then                 the pool's bookkeeping ({@link PoolMemory}), for one extent per 64 slots
 * </pre>
 * The header is written once, when the file is made, and checked whole when it is opened again: a file of
 * another export, size or disk file, a torn one (of the wrong length, or failing its CRC) is refused with what
 * differs, never reused, since a kernel may still have the export it describes open.
 *
 * <p>The pool secret is what opens the agent's pools on the donors ({@link PoolSecret}): the file is made readable
 * by its owner alone (0600), and a format-1 file, which has none, is refused like any other format.
 */
public final class AgentState implements AutoCloseable {
    public static final String SUFFIX = ".state";
    static final long MAGIC = 0x3145544154535050L; // "PPSTATE1", little-endian
    /** 2: the pool secret joined the header. 3: page versions of 16 bits, not 32. */
    static final int FORMAT = 3;
    static final int HEADER_BYTES = 4096;
    private static final int CRC_OFFSET = 12;
    private static final int SIZE_OFFSET = 16;
    private static final int SLOTS_OFFSET = 24;
    private static final int CLIENT_OFFSET = 32;
    private static final int REPLICAS_OFFSET = 40;
    private static final int EXTENTS_OFFSET = 44;
    private static final int NAME_OFFSET = 48;
    private static final int MAX_NAME_BYTES = 255;
    private static final int DISK_OFFSET = NAME_OFFSET + 2 + MAX_NAME_BYTES + 1;
    private static final int MAX_DISK_BYTES = 1023;
    private static final int SECRET_OFFSET = DISK_OFFSET + 2 + MAX_DISK_BYTES + 1;

    /** What the state is for: an export and its disk file. */
    public record Export(String name, long sizeBytes, Path disk) {
        long slots() {
            return sizeBytes / 4096;
        }

        int extents() {
            return (int) ((slots() + 63) / 64);
        }
    }

    /** The pool secret is in the header: nobody but the agent's user reads it. */
    private static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

    private final Path path;
    private final FileChannel channel;
    private final MappedByteBuffer map;
    private final boolean resumed;
    private final long clientId;
    private final PoolSecret poolSecret;
    private final int replicas;
    private final SlotPlaces slots;
    private final PoolMemory pool;

    private AgentState(Path path, FileChannel channel, MappedByteBuffer map, boolean resumed, Export export) {
        this.path = path;
        this.channel = channel;
        this.map = map;
        this.resumed = resumed;
        map.order(ByteOrder.LITTLE_ENDIAN);
        this.clientId = map.getLong(CLIENT_OFFSET);
        this.poolSecret = new PoolSecret(map.getLong(SECRET_OFFSET), map.getLong(SECRET_OFFSET + Long.BYTES));
        this.replicas = map.getInt(REPLICAS_OFFSET);
        long slotBytes = SlotPlaces.bytesFor(export.slots());
        this.slots = new SlotPlaces(map.slice(HEADER_BYTES, (int) slotBytes), export.slots());
        ByteBuffer poolRegion = map.slice((int) (HEADER_BYTES + slotBytes), (int) PoolMemory.bytesFor(export.extents()));
        this.pool = PoolMemory.in(poolRegion, export.extents(), !resumed);
    }

    /** The file that holds the state of {@code exportName} in {@code dir}. */
    public static Path file(Path dir, String exportName) {
        return dir.resolve(exportName + SUFFIX);
    }

    /** The bytes a state file for {@code export} takes. */
    public static long bytesFor(Export export) {
        return HEADER_BYTES + SlotPlaces.bytesFor(export.slots()) + PoolMemory.bytesFor(export.extents());
    }

    /**
     * Makes a new state for {@code export} at {@code path}, replacing any file there: the caller decided to start
     * empty ({@code --fresh}, or there was no state).
     */
    public static AgentState create(Path path, Export export, long clientId, PoolSecret poolSecret, int replicas) {
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            Files.deleteIfExists(path);
            FileChannel channel = FileChannel.open(path, java.util.Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE), OWNER_ONLY);
            long bytes = bytesFor(export);
            MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
            map.order(ByteOrder.LITTLE_ENDIAN);
            map.putLong(SIZE_OFFSET, export.sizeBytes());
            map.putLong(SLOTS_OFFSET, export.slots());
            map.putLong(CLIENT_OFFSET, clientId);
            map.putInt(REPLICAS_OFFSET, replicas);
            map.putLong(SECRET_OFFSET, poolSecret.high());
            map.putLong(SECRET_OFFSET + Long.BYTES, poolSecret.low());
            map.putInt(EXTENTS_OFFSET, export.extents());
            putString(map, NAME_OFFSET, export.name(), MAX_NAME_BYTES, "export name");
            putString(map, DISK_OFFSET, export.disk().toAbsolutePath().normalize().toString(), MAX_DISK_BYTES, "disk file path");
            map.putInt(8, FORMAT);
            map.putInt(CRC_OFFSET, headerCrc(map));
            // The magic last: a file without it was never finished, and is refused as torn.
            map.putLong(0, MAGIC);
            return new AgentState(path, channel, map, false, export);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the agent's state file " + path, e);
        }
    }

    /**
     * Opens the state a previous agent left at {@code path} for {@code export}. Refused with a message saying
     * what is wrong when it is torn, of another format, or describes another export or disk file.
     */
    public static AgentState open(Path path, Export export) {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            long bytes = bytesFor(export);
            long size = channel.size();
            if (size < HEADER_BYTES) {
                throw new StateRefusedException(path, "it is torn: " + size + " bytes, shorter than its header");
            }
            MappedByteBuffer head = channel.map(FileChannel.MapMode.READ_ONLY, 0, HEADER_BYTES);
            head.order(ByteOrder.LITTLE_ENDIAN);
            if (head.getLong(0) != MAGIC) {
                throw new StateRefusedException(path, "it is not an agent's state, or was never finished (no magic)");
            }
            if (head.getInt(8) != FORMAT) {
                throw new StateRefusedException(path, "it is of format " + head.getInt(8) + ", this agent reads " + FORMAT);
            }
            if (head.getInt(CRC_OFFSET) != headerCrc(head)) {
                throw new StateRefusedException(path, "its header is torn (CRC32C mismatch)");
            }
            String name = getString(head, NAME_OFFSET);
            if (!name.equals(export.name())) {
                throw new StateRefusedException(path, "it is the state of export '" + name + "', not '" + export.name() + "'");
            }
            if (head.getLong(SIZE_OFFSET) != export.sizeBytes()) {
                throw new StateRefusedException(path, "it is the state of a " + head.getLong(SIZE_OFFSET)
                    + "-byte export, not " + export.sizeBytes());
            }
            String disk = getString(head, DISK_OFFSET);
            String wanted = export.disk().toAbsolutePath().normalize().toString();
            if (!disk.equals(wanted)) {
                throw new StateRefusedException(path, "its disk file is " + disk + ", not " + wanted);
            }
            if (size != bytes) {
                throw new StateRefusedException(path, "it is torn: " + size + " bytes where its export needs " + bytes);
            }
            MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
            try {
                return new AgentState(path, channel, map, true, export);
            } catch (IllegalStateException e) {
                throw new StateRefusedException(path, "its pool's bookkeeping is torn: " + e.getMessage());
            }
        } catch (IOException e) {
            close(channel);
            throw new UncheckedIOException("cannot open the agent's state file " + path, e);
        } catch (RuntimeException e) {
            close(channel);
            throw e;
        }
    }

    /** Whether this state was left by a previous agent (resume), rather than made now. */
    public boolean resumed() {
        return resumed;
    }

    public long clientId() {
        return clientId;
    }

    /** The secret of the pools this state's client made: with the client id, what resumes them. */
    public PoolSecret poolSecret() {
        return poolSecret;
    }

    public int replicas() {
        return replicas;
    }

    public SlotPlaces slots() {
        return slots;
    }

    public PoolMemory pool() {
        return pool;
    }

    public Path path() {
        return path;
    }

    /** Removes the state: the export is gone for good (a stop with no client connected). */
    public void delete() {
        close();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the agent's state file " + path, e);
        }
    }

    @Override
    public void close() {
        close(channel);
    }

    private static void close(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the mapping stays valid until it is collected; nothing is lost by a failed close
            }
        }
    }

    private static int headerCrc(ByteBuffer header) {
        CRC32C crc = new CRC32C();
        crc.update(header.slice(SIZE_OFFSET, HEADER_BYTES - SIZE_OFFSET));
        return (int) crc.getValue();
    }

    private static void putString(ByteBuffer buf, int at, String value, int max, String what) {
        byte[] b = value.getBytes(StandardCharsets.UTF_8);
        if (b.length > max) {
            throw new IllegalArgumentException("the " + what + " is longer than " + max + " bytes: " + value);
        }
        buf.putShort(at, (short) b.length);
        buf.put(at + 2, b);
    }

    private static String getString(ByteBuffer buf, int at) {
        int n = buf.getShort(at) & 0xFFFF;
        byte[] b = new byte[Math.min(n, MAX_DISK_BYTES)];
        buf.get(at + 2, b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
