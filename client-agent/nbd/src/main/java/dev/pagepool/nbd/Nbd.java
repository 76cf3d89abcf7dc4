package dev.pagepool.nbd;

/**
 * The numbers of the NBD protocol, named as in its specification ({@code doc/proto.md} of
 * NetworkBlockDevice/nbd), so that code reads against the spec line by line. Only what this server speaks
 * or must recognise is here.
 */
public final class Nbd {
    private Nbd() {
    }

    // Handshake magic numbers.
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454F5054L;
    public static final long NBD_REP_MAGIC = 0x3e889045565a9L;

    // Handshake flags (server, 16 bits) and client flags (32 bits).
    public static final int NBD_FLAG_FIXED_NEWSTYLE = 1;
    public static final int NBD_FLAG_NO_ZEROES = 1 << 1;
    public static final int NBD_FLAG_C_FIXED_NEWSTYLE = 1;
    public static final int NBD_FLAG_C_NO_ZEROES = 1 << 1;

    // Transmission flags (16 bits).
    public static final int NBD_FLAG_HAS_FLAGS = 1;
    public static final int NBD_FLAG_READ_ONLY = 1 << 1;
    public static final int NBD_FLAG_SEND_FLUSH = 1 << 2;
    public static final int NBD_FLAG_SEND_FUA = 1 << 3;
    public static final int NBD_FLAG_ROTATIONAL = 1 << 4;
    public static final int NBD_FLAG_SEND_TRIM = 1 << 5;
    public static final int NBD_FLAG_SEND_WRITE_ZEROES = 1 << 6;
    public static final int NBD_FLAG_SEND_DF = 1 << 7;
    public static final int NBD_FLAG_CAN_MULTI_CONN = 1 << 8;

    // Options.
    public static final int NBD_OPT_EXPORT_NAME = 1;
    public static final int NBD_OPT_ABORT = 2;
    public static final int NBD_OPT_LIST = 3;
    public static final int NBD_OPT_STARTTLS = 5;
    public static final int NBD_OPT_INFO = 6;
    public static final int NBD_OPT_GO = 7;
    public static final int NBD_OPT_STRUCTURED_REPLY = 8;

    // Option reply types.
    public static final int NBD_REP_ACK = 1;
    public static final int NBD_REP_SERVER = 2;
    public static final int NBD_REP_INFO = 3;
    public static final int NBD_REP_FLAG_ERROR = 1 << 31;
    public static final int NBD_REP_ERR_UNSUP = NBD_REP_FLAG_ERROR | 1;
    public static final int NBD_REP_ERR_POLICY = NBD_REP_FLAG_ERROR | 2;
    public static final int NBD_REP_ERR_INVALID = NBD_REP_FLAG_ERROR | 3;
    public static final int NBD_REP_ERR_UNKNOWN = NBD_REP_FLAG_ERROR | 6;
    public static final int NBD_REP_ERR_TOO_BIG = NBD_REP_FLAG_ERROR | 9;

    // Information types in NBD_REP_INFO.
    public static final int NBD_INFO_EXPORT = 0;
    public static final int NBD_INFO_NAME = 1;
    public static final int NBD_INFO_DESCRIPTION = 2;
    public static final int NBD_INFO_BLOCK_SIZE = 3;

    // Transmission phase.
    public static final int NBD_REQUEST_MAGIC = 0x25609513;
    public static final int NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int NBD_REQUEST_BYTES = 28;
    public static final int NBD_SIMPLE_REPLY_BYTES = 16;

    // Command flags.
    public static final int NBD_CMD_FLAG_FUA = 1;
    public static final int NBD_CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int NBD_CMD_FLAG_DF = 1 << 2;
    public static final int NBD_CMD_FLAG_REQ_ONE = 1 << 3;
    public static final int NBD_CMD_FLAG_FAST_ZERO = 1 << 4;

    // Request types.
    public static final int NBD_CMD_READ = 0;
    public static final int NBD_CMD_WRITE = 1;
    public static final int NBD_CMD_DISC = 2;
    public static final int NBD_CMD_FLUSH = 3;
    public static final int NBD_CMD_TRIM = 4;
    public static final int NBD_CMD_CACHE = 5;
    public static final int NBD_CMD_WRITE_ZEROES = 6;
    public static final int NBD_CMD_BLOCK_STATUS = 7;

    // Error values of the simple reply.
    public static final int NBD_OK = 0;
    public static final int NBD_EPERM = 1;
    public static final int NBD_EIO = 5;
    public static final int NBD_ENOMEM = 12;
    public static final int NBD_EINVAL = 22;
    public static final int NBD_ENOSPC = 28;
    public static final int NBD_EOVERFLOW = 75;
    public static final int NBD_ENOTSUP = 95;
    public static final int NBD_ESHUTDOWN = 108;

    // What this server advertises and enforces.

    /** The transmission flags of the pagepool export: everything a swap device needs, all on one shared device. */
    public static final int TRANSMISSION_FLAGS = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA
        | NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_CAN_MULTI_CONN;

    /** Sector size: what the kernel client sends by default; smaller pieces would only multiply read-modify-writes. */
    public static final int MIN_BLOCK_BYTES = 512;

    /** The device's block: aligned requests of this size need no read-modify-write. */
    public static final int PREFERRED_BLOCK_BYTES = BlockDevice.BLOCK_BYTES;

    /** The spec's interoperable default maximum payload; advertised unless the buffer reserve is smaller. */
    public static final int MAX_PAYLOAD_BYTES = 32 << 20;

    /**
     * Largest option payload buffered whole: an export name may be 4096 bytes, plus the GO/INFO framing and a
     * generous list of information requests. Anything larger is discarded as it arrives, never buffered.
     */
    public static final int MAX_OPTION_BYTES = 8192;

    /** Longest string the spec allows (export names). */
    public static final int MAX_STRING_BYTES = 4096;

    /** Requests processed at once per connection; above it the socket is not read, so memory stays bounded. */
    public static final int MAX_INFLIGHT = 64;
}
