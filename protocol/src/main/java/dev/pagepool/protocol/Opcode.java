package dev.pagepool.protocol;

/**
 * Request opcodes. A response carries the opcode of its request with {@link Frame#FLAG_RESPONSE} set.
 * Numbers are part of the wire format: never renumber, only add.
 */
public final class Opcode {
    public static final int HELLO = 1;
    public static final int NEW_POOL = 2;
    public static final int DESTROY_POOL = 3;
    public static final int PUT = 4;
    public static final int GET = 5;
    public static final int FLUSH_PAGE = 6;
    public static final int FLUSH_OBJECT = 7;
    public static final int STATS = 8;
    public static final int PING = 9;
    /**
     * Sent by the DONOR, as a request on a client's data connection: persistent pages it must give back
     * (memory pressure or drain), in the PUT entry layout. The client answers with a PUT-style status vector;
     * the donor frees a page only when its entry is answered {@link Status#PAGE_OK}. See {@link Frame#MAX_HANDBACK_PAGES}.
     */
    public static final int HANDBACK = 10;
    /** Second step of the handshake: the client's proof that it knows the token, after the donor proved it. */
    public static final int AUTH = 11;

    private static final String[] NAMES = {
        null, "HELLO", "NEW_POOL", "DESTROY_POOL", "PUT", "GET", "FLUSH_PAGE", "FLUSH_OBJECT", "STATS", "PING", "HANDBACK", "AUTH"
    };

    private Opcode() {
    }

    public static boolean isKnown(int opcode) {
        return opcode > 0 && opcode < NAMES.length;
    }

    public static String name(int opcode) {
        return isKnown(opcode) ? NAMES[opcode] : "UNKNOWN(" + opcode + ")";
    }
}
