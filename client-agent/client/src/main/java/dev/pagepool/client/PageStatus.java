package dev.pagepool.client;

import dev.pagepool.protocol.Status;

/** What happened to one page of a vectored request. */
public enum PageStatus {
    OK,
    /** GET or flush found no page. */
    MISS,
    /** PUT not stored: keep the page elsewhere (local disk). The handle's older version is gone. */
    REJECTED,
    /** PUT whose data arrived damaged: not stored, older version gone. Send it again. */
    BAD_CRC,
    /**
     * GET of a persistent page whose every copy is gone (every donor holding it died or was taken out of
     * service before the copies were restored). Never produced by a donor: the client decides it, and counts it.
     */
    LOST;

    private static final PageStatus[] BY_CODE = {OK, MISS, REJECTED, BAD_CRC};

    static PageStatus of(int code) {
        if (code < 0 || code >= BY_CODE.length) {
            throw new ProtocolViolationException("unknown page status " + code + " (" + Status.pageName(code) + ")");
        }
        return BY_CODE[code];
    }
}
