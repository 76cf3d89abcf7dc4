package dev.pagepool.discovery;

import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;

/**
 * Hazelcast Compact format of {@link DonorLoad}: a schema with named fields, so that a donor of a later version
 * can add a figure without breaking older clients (unlike Java serialization, and without reflection).
 * Registered on both members ({@link MemberConfigFactory}) and clients ({@link ClientConfigFactory}).
 */
public final class DonorLoadSerializer implements CompactSerializer<DonorLoad> {
    static final String TYPE_NAME = "pagepool.DonorLoad";

    @Override
    public DonorLoad read(CompactReader in) {
        return new DonorLoad(in.readInt64("capacity"), in.readInt64("used"), in.readInt8("pressure"),
            in.readInt64("pages"), in.readInt64("updatedAt"));
    }

    @Override
    public void write(CompactWriter out, DonorLoad load) {
        out.writeInt64("capacity", load.capacityBytes());
        out.writeInt64("used", load.usedBytes());
        out.writeInt8("pressure", (byte) load.pressureLevel());
        out.writeInt64("pages", load.pages());
        out.writeInt64("updatedAt", load.updatedAtMillis());
    }

    @Override
    public String getTypeName() {
        return TYPE_NAME;
    }

    @Override
    public Class<DonorLoad> getCompactClass() {
        return DonorLoad.class;
    }
}
