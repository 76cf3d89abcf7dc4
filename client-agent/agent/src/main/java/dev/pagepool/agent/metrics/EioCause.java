package dev.pagepool.agent.metrics;

import dev.pagepool.agent.swap.SlotLostException;
import dev.pagepool.client.PagePoolException;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Why the export answered EIO, as the operator needs to tell it apart: a page lost with every copy (a cluster
 * durability problem), the local disk file failing, the cluster refusing a request, or anything else (a bug).
 */
enum EioCause {
    LOST("lost"),
    DISK("disk"),
    CLUSTER("cluster"),
    OTHER("other");

    final String tag;

    EioCause(String tag) {
        this.tag = tag;
    }

    static EioCause of(Throwable failure) {
        Throwable t = PagePoolException.causeOf(failure);
        if (t instanceof SlotLostException) {
            return LOST;
        }
        if (t instanceof UncheckedIOException || t instanceof IOException) {
            return DISK; // the swap file's reads, writes and syncs fail with these
        }
        if (t instanceof PagePoolException) {
            return CLUSTER;
        }
        return OTHER;
    }
}
