package dev.pagepool.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/** Deterministic page contents and request bodies for tests, plus a reader that touches every accessor. */
final class TestPages {
    private TestPages() {
    }

    static byte[] page(long seed) {
        byte[] page = new byte[Frame.PAGE_BYTES];
        new SplittableRandom(seed).nextBytes(page);
        return page;
    }

    static int crc32c(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length);
        return (int) crc.getValue();
    }

    /**
     * A valid request body for {@code opcode} with {@code count} entries (vectors), {@code count} token bytes
     * (HELLO and AUTH ignore it) or {@code count} payload bytes (PING); the other opcodes ignore count.
     */
    static byte[] validBody(int opcode, int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuf out = Unpooled.buffer();
        switch (opcode) {
            case Opcode.HELLO -> {
                out.writeShort(Frame.VERSION);
                out.writeShort(0);
                out.writeLong(random.nextLong());
                byte[] nonce = new byte[Frame.NONCE_BYTES];
                random.nextBytes(nonce);
                out.writeBytes(nonce);
            }
            case Opcode.AUTH -> {
                byte[] proof = new byte[Frame.PROOF_BYTES];
                random.nextBytes(proof);
                out.writeBytes(proof);
                out.writeLong(random.nextLong());
                out.writeLong(random.nextLong());
            }
            case Opcode.NEW_POOL -> {
                out.writeByte(random.nextInt(2));
                out.writeByte(random.nextInt(2));
                out.writeShort(Frame.PAGE_BYTES);
                out.writeLong(random.nextLong());
                out.writeLong(random.nextLong());
            }
            case Opcode.DESTROY_POOL -> out.writeInt(random.nextInt());
            case Opcode.PUT, Opcode.GET, Opcode.FLUSH_PAGE, Opcode.FLUSH_OBJECT, Opcode.HANDBACK -> {
                out.writeInt(random.nextInt());
                out.writeShort(count);
                out.writeShort(0);
                for (int i = 0; i < count; i++) {
                    out.writeLong(random.nextLong());
                    if (opcode != Opcode.FLUSH_OBJECT) {
                        out.writeInt(random.nextInt());
                    }
                    if (opcode == Opcode.PUT || opcode == Opcode.HANDBACK) {
                        byte[] data = page(random.nextLong());
                        out.writeInt(crc32c(data));
                        out.writeLong(random.nextLong()); // version
                        out.writeBytes(data);
                    }
                }
            }
            case Opcode.STATS -> {
            }
            case Opcode.PING -> {
                byte[] payload = new byte[count];
                random.nextBytes(payload);
                out.writeBytes(payload);
            }
            default -> throw new IllegalArgumentException("no body for opcode " + opcode);
        }
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        return bytes;
    }

    static final int[] REQUEST_OPCODES = {
        Opcode.HELLO, Opcode.NEW_POOL, Opcode.DESTROY_POOL, Opcode.PUT, Opcode.GET, Opcode.FLUSH_PAGE,
        Opcode.FLUSH_OBJECT, Opcode.STATS, Opcode.PING, Opcode.AUTH
    };

    /**
     * Every value the accessors give for a checked request body, entry by entry. Page data is summarised by its
     * CRC32C, computed by {@link PageChecksum} over exactly the entry's data range.
     */
    static List<Object> readAll(FrameHeader header, ByteBuf body) {
        List<Object> values = new ArrayList<>();
        PageChecksum checksum = new PageChecksum();
        switch (header.opcode()) {
            case Opcode.HELLO -> {
                values.add(Bodies.helloVersion(body));
                values.add(Bodies.helloClientId(body));
                values.add(java.util.HexFormat.of().formatHex(Bodies.helloNonce(body)));
            }
            case Opcode.AUTH -> {
                values.add(java.util.HexFormat.of().formatHex(Bodies.authProof(body)));
                values.add(Bodies.authOwnerKey(body));
            }
            case Opcode.NEW_POOL -> {
                values.add(Bodies.newPoolSpec(body));
                values.add(Bodies.newPoolPageSize(body));
            }
            case Opcode.DESTROY_POOL -> values.add(Bodies.destroyPoolId(body));
            case Opcode.PUT, Opcode.HANDBACK -> {
                values.add(Bodies.pool(body));
                int count = Bodies.count(body);
                values.add(count);
                for (int i = 0; i < count; i++) {
                    values.add(Bodies.putObject(body, i));
                    values.add(Bodies.putIndex(body, i));
                    values.add(Bodies.putCrc(body, i));
                    values.add(Bodies.putVersion(body, i));
                    values.add(checksum.of(body, Bodies.putDataIndex(body, i), Frame.PAGE_BYTES));
                }
            }
            case Opcode.GET, Opcode.FLUSH_PAGE -> {
                values.add(Bodies.pool(body));
                int count = Bodies.count(body);
                values.add(count);
                for (int i = 0; i < count; i++) {
                    values.add(Bodies.keyObject(body, i));
                    values.add(Bodies.keyIndex(body, i));
                }
            }
            case Opcode.FLUSH_OBJECT -> {
                values.add(Bodies.pool(body));
                int count = Bodies.count(body);
                values.add(count);
                for (int i = 0; i < count; i++) {
                    values.add(Bodies.flushObject(body, i));
                }
            }
            case Opcode.STATS, Opcode.PING -> values.add(body.readableBytes());
            default -> throw new IllegalArgumentException("not a request opcode: " + header.opcode());
        }
        return values;
    }

    /**
     * {@code body} placed after {@code junk} bytes of noise in a buffer whose capacity ends exactly where the body
     * ends, reader index at the body: a read past the body throws, and a read relative to index 0 instead of the
     * reader index sees the noise.
     */
    static ByteBuf exactlyBounded(byte[] body, int junk) {
        ByteBuf buf = Unpooled.buffer(junk + body.length, junk + body.length);
        for (int i = 0; i < junk; i++) {
            buf.writeByte(0xA5 ^ i);
        }
        buf.writeBytes(body);
        buf.readerIndex(junk);
        return buf;
    }
}
