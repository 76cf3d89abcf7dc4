package dev.pagepool.protocol;

/**
 * The layout of every pagepool frame: a fixed 24-byte header followed by an opcode-specific body.
 * All integers are big-endian (network order), unsigned unless said otherwise.
 *
 * <pre>
 *  0        4     5      6       8                 16           20       22       24
 *  +--------+-----+------+-------+-----------------+------------+--------+--------+------------
 *  | magic  | ver |opcode| flags |   request id    | body length| status |reserved| body ...
 *  |  u32   | u8  |  u8  |  u16  |      u64        |    u32     |  u16   |  u16   |
 *  +--------+-----+------+-------+-----------------+------------+--------+--------+------------
 * </pre>
 *
 * The magic lets a server drop a peer that speaks another protocol at the first frame; the body length is
 * checked against {@link #MAX_BODY_BYTES} (or the smaller limit a server advertises in HELLO) before a byte
 * of the body is buffered, so a hostile length never makes anyone allocate. Request ids are chosen by the
 * client and echoed in the response; responses may come back in any order.
 *
 * <p>Vectored bodies ({@code PUT}, {@code GET}, {@code FLUSH_PAGE}, {@code FLUSH_OBJECT}) start with a
 * common 8-byte prefix: pool id u32, count u16, reserved u16. One frame carries at most
 * {@link #MAX_PAGES_PER_FRAME} pages, which keeps a whole frame inside one reserve buffer.
 * The per-opcode layouts are in {@code docs/protocol.md} and next to their readers and writers.
 *
 * <p>One request travels the other way: {@code HANDBACK}, which a donor sends to a client that owns a pool,
 * with the donor's own request ids; both sides tell requests from replies by {@link #FLAG_RESPONSE} alone.
 */
public final class Frame {
    public static final int MAGIC = 0x70706F6C; // "ppol"
    /**
     * Version 2: the mutual challenge-response HELLO/AUTH handshake (the token never travels). Every header
     * carries it, so a version-1 peer is refused at its first frame with {@link Status#UNSUPPORTED_VERSION}.
     */
    public static final int VERSION = 2;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int OPCODE_OFFSET = 5;
    public static final int FLAGS_OFFSET = 6;
    public static final int REQUEST_ID_OFFSET = 8;
    public static final int BODY_LENGTH_OFFSET = 16;
    public static final int STATUS_OFFSET = 20;
    public static final int HEADER_BYTES = 24;

    /** Set on every response. */
    public static final int FLAG_RESPONSE = 0x1;
    /** GET: remove each page found, atomically with the read (tmem's destructive get). Ignored on shared pools. */
    public static final int FLAG_EXCLUSIVE = 0x2;
    /**
     * PING: fence the sender's older connections. From the moment the donor serves it, no connection of the same
     * client opened before this one may change the client's private pools (PUT, FLUSH_PAGE, FLUSH_OBJECT,
     * DESTROY_POOL answer {@code FENCED}). A client that re-attaches to a donor it stopped hearing from sends it
     * first, so a write still queued on a connection it gave up can never land after what it writes now.
     */
    public static final int FLAG_FENCE = 0x4;

    public static final int PAGE_BYTES = 4096;
    /** Pages in one vectored frame: 256 pages is 1 MiB of data, enough to amortise a syscall 256 times. */
    public static final int MAX_PAGES_PER_FRAME = 256;

    /**
     * Pages in one HANDBACK frame (donor to client): 64 pages is 257 KiB, so a donor with a few frames
     * outstanding per connection holds a bounded slice of its reserve, and a client acknowledges often enough
     * that the donor frees memory steadily rather than in megabyte steps.
     */
    public static final int MAX_HANDBACK_PAGES = 64;

    /** pool u32, count u16, reserved u16. */
    public static final int VECTOR_PREFIX_BYTES = 8;
    public static final int VECTOR_POOL_OFFSET = 0;
    public static final int VECTOR_COUNT_OFFSET = 4;

    /**
     * PUT entry, also the HANDBACK entry:
     * <pre>
     *  0          8        12       16                 24
     *  +----------+--------+--------+------------------+----------------
     *  |  object  | index  | crc32c |     version      | data[4096] ...
     *  |   u64    |  u32   |  u32   |       u64        |
     *  +----------+--------+--------+------------------+----------------
     * </pre>
     * The version is the client's, opaque to the donor: it is stored with the page and sent back unchanged in
     * a HANDBACK entry, so the client can tell a handed-back copy from a newer write of the same handle. It sits
     * before the data so the data stays 8-byte aligned within the entry.
     */
    public static final int PUT_ENTRY_BYTES = 8 + 4 + 4 + 8 + PAGE_BYTES;
    public static final int PUT_ENTRY_OBJECT_OFFSET = 0;
    public static final int PUT_ENTRY_INDEX_OFFSET = 8;
    public static final int PUT_ENTRY_CRC_OFFSET = 12;
    public static final int PUT_ENTRY_VERSION_OFFSET = 16;
    public static final int PUT_ENTRY_DATA_OFFSET = 24;

    /** GET and FLUSH_PAGE entry: object u64, index u32. */
    public static final int KEY_ENTRY_BYTES = 12;
    /** FLUSH_OBJECT entry: object u64. */
    public static final int OBJECT_ENTRY_BYTES = 8;

    /** Response of PUT and FLUSH_PAGE: count u16, reserved u16, then one status byte per page. */
    public static final int STATUS_VECTOR_PREFIX_BYTES = 4;
    /** GET response: count u16, reserved u16, count status bytes, then for each PAGE_OK in order: crc32c u32, data[4096]. */
    public static final int GET_HIT_BYTES = 4 + PAGE_BYTES;

    /** The largest body any opcode needs: a full PUT vector. */
    public static final int MAX_BODY_BYTES = VECTOR_PREFIX_BYTES + MAX_PAGES_PER_FRAME * PUT_ENTRY_BYTES;

    /** Longest cluster token (UTF-8 bytes) a donor or client accepts in its configuration; it never travels. */
    public static final int MAX_TOKEN_BYTES = 256;
    /** Random challenge each side contributes to the handshake: 256 bits from {@code SecureRandom}. */
    public static final int NONCE_BYTES = 32;
    /** An HMAC-SHA256 proof of knowing the token. */
    public static final int PROOF_BYTES = 32;
    /** HELLO request: version u16, hello flags u16, client id u64, client nonce. */
    public static final int HELLO_BYTES = 2 + 2 + 8 + NONCE_BYTES;
    public static final int HELLO_FLAGS_OFFSET = 2;
    /**
     * HELLO flag: the connection carries the client's calls only, and the donor sends it no requests of its own
     * (HANDBACK goes to the client's other connections). A client thread that writes its frame and reads the reply
     * itself reads only while it has a call under way, so a HANDBACK sent there would wait for its next call.
     * Donors that predate the flag read the field as reserved and ignore it.
     */
    public static final int HELLO_CALLS_ONLY = 0x1;
    public static final int HELLO_CLIENT_ID_OFFSET = 4;
    public static final int HELLO_NONCE_OFFSET = 12;
    /**
     * HELLO response: version u16, max pages per frame u16, max body bytes u32, donor nonce, donor proof,
     * node name length u16, name bytes.
     */
    public static final int HELLO_REPLY_FIXED_BYTES = 2 + 2 + 4 + NONCE_BYTES + PROOF_BYTES + 2;
    /**
     * HELLO reply: after the name, the donor's id, 16 bytes (most then least significant u64), random for each
     * donor process. Two addresses that reach one process answer with one id, so a client never counts them as two
     * donors. A reply without it (an older donor) names no id.
     */
    public static final int HELLO_REPLY_DONOR_ID_BYTES = 16;
    public static final int HELLO_REPLY_NONCE_OFFSET = 8;
    public static final int HELLO_REPLY_PROOF_OFFSET = HELLO_REPLY_NONCE_OFFSET + NONCE_BYTES;
    public static final int HELLO_REPLY_NAME_LENGTH_OFFSET = HELLO_REPLY_PROOF_OFFSET + PROOF_BYTES;
    /**
     * AUTH request: the client's proof, then its owner key ({@link OwnerKey}), the secret of the private pools it
     * creates on this donor. Its OK reply has an empty body.
     * <pre>
     *  0                              32                 48
     *  +------------------------------+------------------+
     *  | client proof (HMAC-SHA256)   | owner key        |
     *  | 32 bytes                     | u64 high, u64 low|
     *  +------------------------------+------------------+
     * </pre>
     */
    public static final int AUTH_BYTES = PROOF_BYTES + OwnerKey.BYTES;
    public static final int AUTH_PROOF_OFFSET = 0;
    public static final int AUTH_OWNER_KEY_OFFSET = PROOF_BYTES;
    /** The largest body a peer may send before it has authenticated: a HELLO or an AUTH. */
    public static final int MAX_PREAUTH_BODY_BYTES = Math.max(HELLO_BYTES, AUTH_BYTES);

    /** NEW_POOL request: persistent u8, shared u8, page size u16, uuid 16 bytes. Response: pool id u32. */
    public static final int NEW_POOL_BYTES = 20;
    /** DESTROY_POOL request: pool id u32. Response: pages removed u64. */
    public static final int DESTROY_POOL_BYTES = 4;
    /** PING: an opaque body of at most this many bytes, echoed back. */
    public static final int MAX_PING_BYTES = 64;
    /** Error response body (status != OK): message length u16, UTF-8 message. */
    public static final int MAX_ERROR_MESSAGE_BYTES = 1024;

    private Frame() {
    }

    /** Body bytes of a PUT request carrying {@code pages} pages. */
    public static int putBodyBytes(int pages) {
        return VECTOR_PREFIX_BYTES + pages * PUT_ENTRY_BYTES;
    }

    /** Body bytes of a GET or FLUSH_PAGE request naming {@code pages} handles. */
    public static int keyBodyBytes(int pages) {
        return VECTOR_PREFIX_BYTES + pages * KEY_ENTRY_BYTES;
    }

    /** Body bytes of a HANDBACK request carrying {@code pages} pages: the PUT layout. */
    public static int handbackBodyBytes(int pages) {
        return putBodyBytes(pages);
    }

    public static int flushObjectBodyBytes(int objects) {
        return VECTOR_PREFIX_BYTES + objects * OBJECT_ENTRY_BYTES;
    }

    public static int statusVectorBytes(int pages) {
        return STATUS_VECTOR_PREFIX_BYTES + pages;
    }

    public static int getReplyBytes(int pages, int hits) {
        return STATUS_VECTOR_PREFIX_BYTES + pages + hits * GET_HIT_BYTES;
    }
}
