package dev.pagepool.agent.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The donors of a cluster as {@code pagepool cluster} prints them: an aligned table for people, or one JSON object
 * with a {@code donors} array for scripts (the field names are part of the outside contract: add, never rename).
 */
public final class ClusterReport {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] HEADER = {"NAME", "DATA", "BUDGET", "EFFECTIVE", "USED", "PAGES", "RATIO",
        "WATERMARK", "CONNS", "REJECTED", "HANDED-BACK"};

    private final String clusterName;
    private final List<DonorRow> rows;

    public ClusterReport(String clusterName, List<DonorRow> rows) {
        this.clusterName = clusterName;
        this.rows = List.copyOf(rows);
    }

    public String json() {
        ObjectNode root = JSON.createObjectNode();
        root.put("cluster", clusterName);
        ArrayNode donors = root.putArray("donors");
        for (DonorRow r : rows) {
            ObjectNode d = donors.addObject();
            d.put("name", r.name());
            d.put("data_endpoint", r.dataEndpoint());
            d.put("http_port", r.httpPort());
            d.put("operator_budget_bytes", r.operatorBudgetBytes());
            d.put("effective_budget_bytes", r.effectiveBudgetBytes());
            d.put("used_bytes", r.usedBytes());
            d.put("pages", r.pages());
            d.put("compression_ratio", r.compressionRatio());
            d.put("watermark_level", r.watermarkLevel());
            d.put("watermark", r.watermark());
            d.put("connections", r.connections());
            d.put("puts_rejected", r.putsRejected());
            d.put("handed_back", r.handedBack());
            d.put("load_age_ms", r.loadAgeMillis());
            if (r.statsError() != null) {
                d.put("stats_error", r.statsError());
            }
        }
        return root.toString();
    }

    public String table() {
        List<String[]> lines = new ArrayList<>();
        lines.add(HEADER);
        for (DonorRow r : rows) {
            lines.add(new String[] {r.name(), r.dataEndpoint(), size(r.operatorBudgetBytes()),
                size(r.effectiveBudgetBytes()), size(r.usedBytes()), count(r.pages()),
                r.compressionRatio() < 0 ? "-" : String.format(Locale.ROOT, "%.2f", r.compressionRatio()),
                r.watermark(), count(r.connections()), count(r.putsRejected()), count(r.handedBack())});
        }
        int[] width = new int[HEADER.length];
        for (String[] line : lines) {
            for (int c = 0; c < line.length; c++) {
                width[c] = Math.max(width[c], line[c].length());
            }
        }
        StringBuilder out = new StringBuilder();
        out.append("cluster ").append(clusterName).append(": ").append(rows.size())
            .append(rows.size() == 1 ? " donor" : " donors").append('\n');
        for (String[] line : lines) {
            for (int c = 0; c < line.length; c++) {
                // Names and endpoints left-aligned, figures right-aligned.
                String cell = c < 2 ? pad(line[c], width[c], false) : pad(line[c], width[c], true);
                out.append(cell).append(c + 1 < line.length ? "  " : "");
            }
            out.append('\n');
        }
        for (DonorRow r : rows) {
            if (r.statsError() != null) {
                out.append(r.name()).append(": no STATS (").append(r.statsError()).append(")\n");
            }
        }
        return out.toString();
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(width - s.length());
        return right ? fill + s : s + fill;
    }

    private static String count(long n) {
        return n < 0 ? "-" : String.format(Locale.ROOT, "%,d", n);
    }

    /** Binary units with one decimal, as the other commands print sizes. */
    static String size(long bytes) {
        if (bytes < 0) {
            return "-";
        }
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
