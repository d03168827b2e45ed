package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Writes results: a console table, {@code index.json} plus one {@code cases/<id>.json} per case with its wire log
 * (Autobahn style), and {@code TEST-conformance.xml} in the JUnit/surefire format (every {@code testcase} has
 * {@code name} = the case id and {@code classname} = {@code conformance.<transport>.<role>}).
 */
public final class Reports {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Reports() {
    }

    /** One line per case, then totals. */
    public static void table(List<CaseResult> results, PrintStream out) {
        int w = results.stream().mapToInt(r -> r.id().length()).max().orElse(10);
        out.printf("%-" + w + "s  %-7s %7s  %s%n", "case", "result", "ms", "detail");
        for (CaseResult r : results) {
            String detail = switch (r.status()) {
                case PASS -> "";
                case SKIPPED, DEVIATION -> r.message();
                default -> (r.step() >= 0 ? "step " + r.step() + ": " : "")
                        + (r.actual() != null ? "expected " + r.expected() + ", got " + r.actual() : r.message());
            };
            if (detail != null && detail.length() > 160) {
                detail = detail.substring(0, 157) + "...";
            }
            out.printf("%-" + w + "s  %-7s %7d  %s%n", r.id(), r.status(), r.durationMs(), detail == null ? "" : detail);
        }
        out.println(summary(results));
    }

    public static String summary(List<CaseResult> results) {
        Map<CaseResult.Status, Long> c = results.stream()
                .collect(Collectors.groupingBy(CaseResult::status, () -> new java.util.EnumMap<>(CaseResult.Status.class),
                        Collectors.counting()));
        return results.size() + " cases: " + c.getOrDefault(CaseResult.Status.PASS, 0L) + " passed, "
                + c.getOrDefault(CaseResult.Status.FAIL, 0L) + " failed, "
                + c.getOrDefault(CaseResult.Status.ERROR, 0L) + " errors, "
                + c.getOrDefault(CaseResult.Status.SKIPPED, 0L) + " skipped"
                + (c.containsKey(CaseResult.Status.DEVIATION) ? ", " + c.get(CaseResult.Status.DEVIATION)
                + " documented peer deviations" : "");
    }

    /** Writes index.json, cases/*.json and TEST-conformance.xml under {@code dir}. */
    public static void write(List<CaseResult> results, String target, Path dir) throws IOException {
        Files.createDirectories(dir.resolve("cases"));
        ObjectNode index = JSON.createObjectNode();
        index.put("target", target);
        index.put("summary", summary(results));
        ObjectNode cases = index.putObject("cases");
        for (CaseResult r : results) {
            ObjectNode c = cases.putObject(r.id());
            c.put("status", r.status().name());
            c.put("durationMs", r.durationMs());
            c.put("reportfile", "cases/" + r.id() + ".json");
            ObjectNode full = JSON.createObjectNode();
            full.put("id", r.id());
            full.put("title", r.fixture().title());
            full.put("description", r.fixture().description());
            full.put("kind", r.fixture().kind());
            full.put("target", r.target());
            full.put("status", r.status().name());
            full.put("durationMs", r.durationMs());
            full.set("source", r.fixture().source());
            if (r.step() >= 0) {
                full.put("step", r.step());
                c.put("step", r.step());
            }
            putIfSet(full, "requirement", r.requirement());
            putIfSet(full, "expected", r.expected());
            putIfSet(full, "actual", r.actual());
            putIfSet(full, "message", r.message());
            putIfSet(c, "expected", r.expected());
            putIfSet(c, "actual", r.actual());
            putIfSet(c, "message", r.message());
            ArrayNode wl = full.putArray("wirelog");
            for (WireLog.Entry e : r.wireLog()) {
                wl.addArray().add(e.t()).add(e.kind()).add(e.text());
            }
            JSON.writeValue(dir.resolve("cases").resolve(r.id() + ".json").toFile(), full);
        }
        JSON.writeValue(dir.resolve("index.json").toFile(), index);
        Files.writeString(dir.resolve("TEST-conformance.xml"), junitXml(results), StandardCharsets.UTF_8);
    }

    private static void putIfSet(ObjectNode n, String k, String v) {
        if (v != null) {
            n.put(k, v);
        }
    }

    /** JUnit XML: one testsuite per transport and role, one testcase per case. */
    public static String junitXml(List<CaseResult> results) {
        Map<String, List<CaseResult>> suites = new TreeMap<>(results.stream().collect(Collectors.groupingBy(
                r -> "conformance." + r.fixture().transport() + "." + r.fixture().role().name().toLowerCase(Locale.ROOT))));
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.append("<testsuites name=\"tunnelwire-conformance\"").append(counts(results)).append(">\n");
        for (Map.Entry<String, List<CaseResult>> s : suites.entrySet()) {
            sb.append("  <testsuite name=\"").append(esc(s.getKey())).append('"').append(counts(s.getValue()))
                    .append(">\n");
            for (CaseResult r : s.getValue()) {
                sb.append("    <testcase name=\"").append(esc(r.id())).append("\" classname=\"")
                        .append(esc(s.getKey())).append("\" time=\"").append(seconds(r.durationMs())).append('"');
                switch (r.status()) {
                    case PASS -> sb.append("/>\n");
                    case SKIPPED, DEVIATION -> sb.append(">\n      <skipped message=\"").append(esc(r.message()))
                            .append("\"/>\n    </testcase>\n");
                    default -> {
                        String tag = r.status() == CaseResult.Status.FAIL ? "failure" : "error";
                        String msg = r.actual() != null ? "Expected: " + r.expected() + " Actual: " + r.actual()
                                : r.message();
                        sb.append(">\n      <").append(tag).append(" message=\"").append(esc(msg)).append("\" type=\"")
                                .append(r.status()).append("\">").append(esc(r.failureText())).append("</")
                                .append(tag).append(">\n    </testcase>\n");
                    }
                }
            }
            sb.append("  </testsuite>\n");
        }
        return sb.append("</testsuites>\n").toString();
    }

    private static String counts(List<CaseResult> rs) {
        long f = rs.stream().filter(r -> r.status() == CaseResult.Status.FAIL).count();
        long e = rs.stream().filter(r -> r.status() == CaseResult.Status.ERROR).count();
        long s = rs.stream().filter(r -> r.status() == CaseResult.Status.SKIPPED
                || r.status() == CaseResult.Status.DEVIATION).count();
        long ms = rs.stream().mapToLong(CaseResult::durationMs).sum();
        return " tests=\"" + rs.size() + "\" failures=\"" + f + "\" errors=\"" + e + "\" skipped=\"" + s
                + "\" time=\"" + seconds(ms) + "\"";
    }

    private static String seconds(long ms) {
        return String.format(Locale.ROOT, "%.3f", ms / 1000.0);
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&apos;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
                        sb.append("\\x").append(String.format("%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }
}
