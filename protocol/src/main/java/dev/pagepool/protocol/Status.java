package dev.pagepool.protocol;

/**
 * Status codes. Request statuses travel in the response header and say whether the request as a whole
 * was carried out; page statuses travel in the body of vectored responses, one byte per page.
 * Numbers are part of the wire format: never renumber, only add.
 */
public final class Status {
    // ---- request statuses (header) ----
    public static final int OK = 0;
    /** No completed handshake, or a wrong proof of the token. The connection is closed after this reply. */
    public static final int UNAUTHENTICATED = 1;
    /** The pool id names no pool this client may use (never created, destroyed, or another client's private pool). */
    public static final int NO_SUCH_POOL = 2;
    /** A shared pool was addressed without presenting its 128-bit UUID on this connection. */
    public static final int BAD_SECRET = 3;
    /** The body does not match the layout of its opcode. */
    public static final int MALFORMED = 4;
    /** The body length, or a page count, is above the advertised maximum. The body is skipped. */
    public static final int TOO_LARGE = 5;
    public static final int UNKNOWN_OPCODE = 6;
    public static final int UNSUPPORTED_VERSION = 7;
    /** The server has no buffer for this request right now; retry later or fall back. */
    public static final int BUSY = 8;
    public static final int INTERNAL = 9;
    /** The request is valid but not allowed (e.g. a page size other than 4096). */
    public static final int INVALID = 10;
    /** A per-client limit of the donor (pools per client) would be exceeded; nothing was done. */
    public static final int OVER_LIMIT = 11;
    /**
     * A write on a connection opened before the client fenced it (a PING with {@code FLAG_FENCE} on a newer one):
     * nothing was done. The client gave this connection up; what it writes now goes on the newer one.
     */
    public static final int FENCED = 12;

    // ---- page statuses (body of PUT, GET, FLUSH_PAGE responses) ----
    public static final int PAGE_OK = 0;
    /** GET or FLUSH_PAGE found no page under the handle. */
    public static final int PAGE_MISS = 1;
    /** PUT not stored (donor full, under pressure, reserve low). Any older version of the handle is gone. */
    public static final int PAGE_REJECTED = 2;
    /** PUT whose data did not match its CRC32C: not stored, any older version gone. */
    public static final int PAGE_BAD_CRC = 3;

    private static final String[] REQUEST_NAMES = {
        "OK", "UNAUTHENTICATED", "NO_SUCH_POOL", "BAD_SECRET", "MALFORMED", "TOO_LARGE", "UNKNOWN_OPCODE",
        "UNSUPPORTED_VERSION", "BUSY", "INTERNAL", "INVALID", "OVER_LIMIT", "FENCED"
    };
    private static final String[] PAGE_NAMES = {"OK", "MISS", "REJECTED", "BAD_CRC"};

    private Status() {
    }

    public static String requestName(int status) {
        return status >= 0 && status < REQUEST_NAMES.length ? REQUEST_NAMES[status] : "UNKNOWN(" + status + ")";
    }

    public static String pageName(int status) {
        return status >= 0 && status < PAGE_NAMES.length ? PAGE_NAMES[status] : "UNKNOWN(" + status + ")";
    }
}
