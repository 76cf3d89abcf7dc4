package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Groups batch positions by donor and sends each group in frames of at most 256 pages. */
final class DonorGroups {
    @FunctionalInterface
    interface FrameSender {
        CompletableFuture<Void> send(int donor, int[] picks, int k);
    }

    private final int[][] picks;
    private final int[] counts;

    DonorGroups(int donors) {
        picks = new int[donors][];
        counts = new int[donors];
    }

    void add(int donor, int position) {
        int[] p = picks[donor];
        if (p == null) {
            p = picks[donor] = new int[16];
        } else if (counts[donor] == p.length) {
            p = picks[donor] = Arrays.copyOf(p, p.length * 2);
        }
        p[counts[donor]++] = position;
    }

    /** Calls {@code sender} per frame; the futures of every frame, each already handled by the sender. */
    List<CompletableFuture<Void>> send(FrameSender sender) {
        List<CompletableFuture<Void>> frames = new ArrayList<>();
        for (int d = 0; d < counts.length; d++) {
            int n = counts[d];
            for (int start = 0; start < n; start += Frame.MAX_PAGES_PER_FRAME) {
                int k = Math.min(Frame.MAX_PAGES_PER_FRAME, n - start);
                int[] frame = start == 0 && k == n ? picks[d] : Arrays.copyOfRange(picks[d], start, start + k);
                frames.add(sender.send(d, frame, k));
            }
        }
        return frames;
    }
}
