package dev.pagepool.nbd;

/**
 * One request header of the transmission phase, decoded. {@code length} is the unsigned 32-bit field widened,
 * {@code offset} the unsigned 64-bit field as Java's signed long (compare with {@link Long#compareUnsigned}).
 */
record NbdCommand(int flags, int type, long cookie, long offset, long length) {
    boolean fua() {
        return (flags & Nbd.NBD_CMD_FLAG_FUA) != 0;
    }

    boolean noHole() {
        return (flags & Nbd.NBD_CMD_FLAG_NO_HOLE) != 0;
    }

    /** Only a WRITE carries a payload; every other type, known or not, is a bare header. */
    long payloadBytes() {
        return type == Nbd.NBD_CMD_WRITE ? length : 0;
    }
}
