package dev.pagepool.nbd;

/**
 * The one export a server offers, with the numbers the handshake advertises and the transmission phase
 * enforces, so both phases agree by construction.
 *
 * @param name            the export name clients ask for (the empty name means this export too)
 * @param device          what is served
 * @param sizeBytes       export size: the device's blocks times {@link BlockDevice#BLOCK_BYTES}
 * @param maxPayloadBytes largest READ/WRITE payload accepted, bounded by the buffer reserve
 */
record NbdExport(String name, BlockDevice device, long sizeBytes, int maxPayloadBytes) {
    NbdExport {
        if (sizeBytes <= 0 || sizeBytes % BlockDevice.BLOCK_BYTES != 0) {
            throw new IllegalArgumentException("export size must be a positive multiple of 4096: " + sizeBytes);
        }
        if (maxPayloadBytes < Nbd.PREFERRED_BLOCK_BYTES) {
            throw new IllegalArgumentException("maximum payload below the preferred block size: " + maxPayloadBytes);
        }
    }

    /** True if a client asking for {@code requested} means this export. */
    boolean matches(String requested) {
        return requested.isEmpty() || requested.equals(name);
    }

    int transmissionFlags() {
        return Nbd.TRANSMISSION_FLAGS;
    }
}
