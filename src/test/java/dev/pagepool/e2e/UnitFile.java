package dev.pagepool.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A systemd unit file read as systemd reads its syntax: sections, {@code Key=value} lines (a key may repeat),
 * comments, and lines continued with a trailing backslash. For asserting settings; systemd-analyze checks the rest.
 */
record UnitFile(Path path, Map<String, List<String>> settings) {
    static UnitFile read(Path path) throws IOException {
        Map<String, List<String>> settings = new LinkedHashMap<>();
        String section = "";
        StringBuilder pending = new StringBuilder();
        for (String raw : Files.readAllLines(path)) {
            String line = raw.strip();
            if (pending.isEmpty() && (line.isEmpty() || line.startsWith("#") || line.startsWith(";"))) {
                continue;
            }
            if (line.endsWith("\\")) {
                pending.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            line = pending.append(line).toString();
            pending.setLength(0);
            if (line.startsWith("[") && line.endsWith("]")) {
                section = line.substring(1, line.length() - 1);
                continue;
            }
            int eq = line.indexOf('=');
            if (eq > 0) {
                settings.computeIfAbsent(section + "." + line.substring(0, eq).strip(), k -> new ArrayList<>())
                    .add(line.substring(eq + 1).strip());
            }
        }
        return new UnitFile(path, settings);
    }

    /** Every value of {@code section.key}, in order; empty when unset. */
    List<String> all(String sectionKey) {
        return settings.getOrDefault(sectionKey, List.of());
    }

    /** The value of a key set once (the last one wins, as in systemd). */
    String one(String sectionKey) {
        List<String> values = all(sectionKey);
        if (values.isEmpty()) {
            throw new AssertionError(path.getFileName() + " sets no " + sectionKey);
        }
        return values.get(values.size() - 1);
    }

    /** The space-separated unit names of a dependency setting such as {@code Unit.After}. */
    List<String> units(String sectionKey) {
        List<String> names = new ArrayList<>();
        for (String v : all(sectionKey)) {
            for (String n : v.split("\\s+")) {
                if (!n.isEmpty()) {
                    names.add(n);
                }
            }
        }
        return names;
    }
}
