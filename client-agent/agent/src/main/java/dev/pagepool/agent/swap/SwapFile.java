package dev.pagepool.agent.swap;

import dev.pagepool.nbd.BlockDevice;
import dev.pagepool.nbd.NoSpaceException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The local disk file under the swap device: slot s at byte {@code s * 4096}, so no allocation table is needed
 * and the file stays sparse where nothing was ever written. Positional reads and writes, safe from many threads.
 */
final class SwapFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;

    /**
     * The file at {@code path}: emptied for a new device ({@code fresh}), kept as it is for a device an agent
     * resumes after its predecessor died, whose slots on disk are still the kernel's pages.
     */
    SwapFile(Path path, boolean fresh) {
        this.path = path;
        try {
            this.channel = fresh
                ? FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the swap file " + path, e);
        }
    }

    Path path() {
        return path;
    }

    void write(long slot, ByteBuffer page) {
        long at = slot * BlockDevice.BLOCK_BYTES;
        try {
            while (page.hasRemaining()) {
                at += channel.write(page, at);
            }
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("No space left")) {
                throw new NoSpaceException("the swap file " + path + " is full: " + e.getMessage());
            }
            throw new UncheckedIOException("writing slot " + slot + " to " + path, e);
        }
    }

    void read(long slot, ByteBuffer page) {
        long at = slot * BlockDevice.BLOCK_BYTES;
        try {
            while (page.hasRemaining()) {
                int n = channel.read(page, at);
                if (n < 0) {
                    // Past the end of a sparse file: the slot was never written there, it reads as zeros.
                    while (page.hasRemaining()) {
                        page.put((byte) 0);
                    }
                    return;
                }
                at += n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading slot " + slot + " from " + path, e);
        }
    }

    void sync() {
        try {
            channel.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("syncing " + path, e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
