package dev.pagepool.e2e.k8s;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration keys the donor really reads, taken from its sources as text (the node's classes are not on
 * this module's classpath): every property of the {@code @ConfigMapping} interface {@code NodeConfig}, with its
 * {@code @WithDefault}, and every key its {@code application.properties} sets. Renaming a key in the app changes
 * what this finds, so manifests that still use the old name fail their test.
 */
final class AppConfigKeys {
    private static final Pattern PREFIX = Pattern.compile("@ConfigMapping\\(\\s*prefix\\s*=\\s*\"([^\"]+)\"");
    private static final Pattern INTERFACE = Pattern.compile("\\binterface\\s+(\\w+)");
    private static final Pattern METHOD = Pattern.compile("^\\s*(?:public\\s+)?([\\w.]+(?:<[\\w.<>, ?]+>)?)\\s+(\\w+)\\(\\)\\s*;");
    private static final Pattern DEFAULT = Pattern.compile("@WithDefault\\(\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*\\)");
    private static final Pattern NAME = Pattern.compile("@WithName\\(\\s*\"([^\"]+)\"\\s*\\)");

    /** Property name to default value (empty when the property has none). */
    final Map<String, String> mapped;
    /** Keys set in application.properties without a profile. */
    final Properties applicationProperties;

    private AppConfigKeys(Map<String, String> mapped, Properties applicationProperties) {
        this.mapped = mapped;
        this.applicationProperties = applicationProperties;
    }

    static AppConfigKeys of(Path repositoryRoot) throws IOException {
        Path node = repositoryRoot.resolve("node/src/main");
        Map<String, String> mapped = parseConfigMapping(Files.readString(node.resolve("java/dev/pagepool/node/config/NodeConfig.java")));
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(node.resolve("resources/application.properties"))) {
            properties.load(in);
        }
        properties.stringPropertyNames().stream().filter(k -> k.startsWith("%")).toList().forEach(properties::remove);
        return new AppConfigKeys(mapped, properties);
    }

    /** The env var SmallRye Config maps to {@code property}: upper case, every non-alphanumeric an underscore. */
    static String envName(String property) {
        return property.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    /** The property an env var of the app's own ({@code PAGEPOOL_*}) or a Quarkus key the app sets stands for. */
    Optional<String> propertyForEnv(String env) {
        for (String key : mapped.keySet()) {
            if (envName(key).equals(env)) {
                return Optional.of(key);
            }
        }
        for (String key : applicationProperties.stringPropertyNames()) {
            if (envName(key).equals(env)) {
                return Optional.of(key);
            }
        }
        return Optional.empty();
    }

    /** The value the app uses for {@code property} when the manifests do not set it. */
    Optional<String> defaultOf(String property) {
        String value = applicationProperties.getProperty(property);
        if (value != null) {
            return Optional.of(value);
        }
        return Optional.ofNullable(mapped.get(property)).filter(v -> !v.isEmpty());
    }

    // ---- a small reader of @ConfigMapping interfaces: nested interfaces are groups, no-arg methods are properties

    private record Member(String type, String name, String defaultValue) {
    }

    static Map<String, String> parseConfigMapping(String source) {
        String code = stripComments(source);
        Matcher prefixMatch = PREFIX.matcher(code);
        if (!prefixMatch.find()) {
            throw new IllegalArgumentException("no @ConfigMapping(prefix = ...) found");
        }
        String prefix = prefixMatch.group(1);
        Matcher rootMatch = INTERFACE.matcher(code);
        if (!rootMatch.find(prefixMatch.end())) {
            throw new IllegalArgumentException("no interface after @ConfigMapping");
        }
        Map<String, List<Member>> interfaces = interfaces(code);
        Map<String, String> keys = new LinkedHashMap<>();
        expand(rootMatch.group(1), prefix, interfaces, keys, 0);
        return keys;
    }

    private static Map<String, List<Member>> interfaces(String code) {
        Map<String, List<Member>> interfaces = new LinkedHashMap<>();
        Deque<String> open = new ArrayDeque<>();
        Deque<Integer> openedAt = new ArrayDeque<>();
        int depth = 0;
        String pendingInterface = null;
        String pendingDefault = null;
        String pendingName = null;
        for (String line : code.split("\n")) {
            Matcher declared = INTERFACE.matcher(line);
            if (declared.find()) {
                pendingInterface = declared.group(1);
                interfaces.putIfAbsent(pendingInterface, new ArrayList<>());
            }
            Matcher withDefault = DEFAULT.matcher(line);
            if (withDefault.find()) {
                pendingDefault = withDefault.group(1);
            }
            Matcher withName = NAME.matcher(line);
            if (withName.find()) {
                pendingName = withName.group(1);
            }
            Matcher method = METHOD.matcher(line.replaceAll("@\\w+(\\([^)]*\\))?", ""));
            if (method.find() && !open.isEmpty()) {
                String name = pendingName != null ? pendingName : kebab(method.group(2));
                interfaces.get(open.peek()).add(new Member(method.group(1), name, pendingDefault));
                pendingDefault = null;
                pendingName = null;
            }
            for (char c : line.toCharArray()) {
                if (c == '{') {
                    depth++;
                    if (pendingInterface != null) {
                        open.push(pendingInterface);
                        openedAt.push(depth);
                        pendingInterface = null;
                    }
                } else if (c == '}') {
                    if (!openedAt.isEmpty() && openedAt.peek() == depth) {
                        open.pop();
                        openedAt.pop();
                    }
                    depth--;
                }
            }
        }
        return interfaces;
    }

    private static void expand(String iface, String prefix, Map<String, List<Member>> interfaces,
                               Map<String, String> keys, int level) {
        if (level > 10) {
            throw new IllegalStateException("config groups nest too deep at " + prefix);
        }
        for (Member member : interfaces.getOrDefault(iface, List.of())) {
            String type = member.type();
            String inner = type.contains("<") ? type.substring(type.indexOf('<') + 1, type.lastIndexOf('>')).trim() : type;
            String key = prefix + "." + member.name();
            if (interfaces.containsKey(simpleName(type)) || (type.startsWith("Optional<") && interfaces.containsKey(simpleName(inner)))) {
                expand(interfaces.containsKey(simpleName(type)) ? simpleName(type) : simpleName(inner), key, interfaces, keys, level + 1);
            } else {
                keys.put(key, member.defaultValue() == null ? "" : member.defaultValue());
            }
        }
    }

    private static String simpleName(String type) {
        return type.substring(type.lastIndexOf('.') + 1);
    }

    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    private static String stripComments(String source) {
        return source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("(?m)^\\s*//.*$", "").replaceAll("(?m)\\s+//\\s.*$", "");
    }
}
