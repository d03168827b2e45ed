package dev.tunnelwire.internal;

import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads typed values from a flat parameter map (gost-style metadata) once, at the edge, and insists that every key
 * was understood: {@link #requireAllUsed()} throws {@link IllegalArgumentException} naming the unknown keys.
 * Durations accept Go syntax ({@code 10s}, {@code 500ms}, {@code 1m30s}) or plain seconds.
 */
public final class Params {

    private final String transport;
    private final Map<String, String> values;
    private final Set<String> used = new HashSet<>();

    public Params(String transport, Map<String, String> values) {
        this.transport = transport;
        this.values = values == null ? Map.of() : values;
    }

    /** The first present key among {@code names} (aliases), or {@code null}; use {@link #stringOr} for a default. */
    public String string(String... names) {
        String found = null;
        for (String n : names) {
            used.add(n);
            if (found == null && values.containsKey(n)) {
                found = values.get(n);
            }
        }
        return found;
    }

    /** The value of {@code name}, or {@code def} when absent (not an alias list: see {@link #string(String...)}). */
    public String stringOr(String name, String def) {
        String v = string(new String[] {name});
        return v == null ? def : v;
    }

    public boolean bool(String name, boolean def) {
        String v = string(new String[] {name});
        if (v == null) {
            return def;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes", "on" -> true;
            case "false", "0", "no", "off" -> false;
            default -> throw bad(name, v, "a boolean");
        };
    }

    public int integer(String name, int def) {
        String v = string(new String[] {name});
        if (v == null) {
            return def;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw bad(name, v, "an integer");
        }
    }

    public Duration duration(String name, Duration def) {
        String v = string(new String[] {name});
        if (v == null) {
            return def;
        }
        try {
            return parseDuration(v.trim());
        } catch (IllegalArgumentException e) {
            throw bad(name, v, "a duration such as 10s or 500ms");
        }
    }

    /** Go's duration syntax ({@code 1h2m3s}, {@code 250ms}, {@code 1.5s}); a bare number means seconds. */
    public static Duration parseDuration(String s) {
        if (s.matches("\\d+")) {
            return Duration.ofSeconds(Long.parseLong(s));
        }
        var m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)").matcher(s);
        long nanos = 0;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                throw new IllegalArgumentException(s);
            }
            end = m.end();
            double n = Double.parseDouble(m.group(1));
            nanos += (long) (n * switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            });
        }
        if (end == 0 || end != s.length()) {
            throw new IllegalArgumentException(s);
        }
        return Duration.ofNanos(nanos);
    }

    /** Throws if a key was never asked for. */
    public void requireAllUsed() {
        Set<String> unknown = new TreeSet<>(values.keySet());
        unknown.removeAll(used);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown " + transport + " option(s): " + unknown);
        }
    }

    private IllegalArgumentException bad(String name, String value, String what) {
        return new IllegalArgumentException(transport + " option '" + name + "' must be " + what + ", got '"
                + value + "'");
    }
}
