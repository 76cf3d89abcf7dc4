package dev.pagepool.agent.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A duration on the command line as operators write it in the donors' configuration: {@code 500ms}, {@code 30s},
 * {@code 2m}, or ISO-8601 ({@code PT30S}, which picocli alone would take). Positive only.
 */
final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        Duration d;
        try {
            if (t.startsWith("pt")) {
                d = Duration.parse(t);
            } else if (t.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            } else if (t.endsWith("s")) {
                d = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            } else if (t.endsWith("m")) {
                d = Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            } else {
                throw new TypeConversionException("'" + text + "' is not a duration: write 500ms, 30s or 2m");
            }
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new TypeConversionException("'" + text + "' is not a duration: write 500ms, 30s or 2m");
        }
        if (d.isZero() || d.isNegative()) {
            throw new TypeConversionException("a duration must be positive, got '" + text + "'");
        }
        return d;
    }
}
