package dev.pagepool.protocol;

/** The decoded fixed header of one frame; see {@link Frame} for the layout. */
public record FrameHeader(int opcode, int flags, long requestId, int bodyLength, int status) {
    public boolean isResponse() {
        return (flags & Frame.FLAG_RESPONSE) != 0;
    }

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }
}
