package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static dev.tunnelwire.interop.Role.F;

/**
 * The conformance section of the interop report: every fixture replayed against tunnelwire in-process and against the
 * reference peers ({@link PeerConformanceIT}). {@link Report} embeds {@link #current()} when it is set, so whichever of
 * the two integration tests runs last writes a report with both parts.
 */
final class ConformanceReport {

    /** The targets, in table order: tunnelwire, then the peers under their fixture names. */
    static final List<String> TARGETS = List.of("tunnelwire", "sing-box", "xray", "gost");

    /** Outcome of one case on one target. */
    enum Outcome {
        PASS("pass"), FAIL("fail"), DEVIATION("deviation"), NOT_APPLICABLE("n/a");

        final String json;

        Outcome(String json) {
            this.json = json;
        }
    }

    /**
     * One cell of the table.
     *
     * @param id        case id
     * @param transport the case's transport
     * @param target    {@code tunnelwire}, {@code sing-box}, {@code xray} or {@code gost}
     * @param outcome   the outcome
     * @param detail    one line: the failure, the documented deviation, or why the case does not apply
     * @param text      failure text with the wire log (fail and deviation), or empty
     * @param peerLog   what the peer logged during the case (fail and deviation), or empty
     * @param config    the peer inbound the case ran on, or empty
     * @param millis    wall time
     */
    record Cell(String id, String transport, String target, Outcome outcome, String detail, String text,
                String peerLog, String config, long millis) {

        String anchor() {
            return "conf-" + target + "-" + id.replace('.', '-');
        }
    }

    private static volatile ConformanceReport current;

    final List<Cell> cells;
    final long totalMillis;
    final String selection;

    ConformanceReport(List<Cell> cells, long totalMillis, String selection) {
        this.cells = List.copyOf(cells);
        this.totalMillis = totalMillis;
        this.selection = selection;
    }

    static ConformanceReport current() {
        return current;
    }

    static void publish(ConformanceReport r) {
        current = r;
    }

    /** target → transport → outcome → count ({@code *} for the total over transports). */
    Map<String, Map<String, Map<Outcome, Integer>>> counts() {
        Map<String, Map<String, Map<Outcome, Integer>>> m = new LinkedHashMap<>();
        for (String t : TARGETS) {
            m.put(t, new TreeMap<>());
        }
        for (Cell c : cells) {
            Map<String, Map<Outcome, Integer>> byTransport = m.computeIfAbsent(c.target(), k -> new TreeMap<>());
            for (String key : List.of("*", c.transport())) {
                byTransport.computeIfAbsent(key, k -> empty()).merge(c.outcome(), 1, Integer::sum);
            }
        }
        return m;
    }

    private static Map<Outcome, Integer> empty() {
        Map<Outcome, Integer> m = new LinkedHashMap<>();
        for (Outcome o : Outcome.values()) {
            m.put(o, 0);
        }
        return m;
    }

    /** One line per target: {@code gost: 120 cases: 80 pass, 0 fail, 9 deviation, 31 n/a}. */
    List<String> summaryLines() {
        List<String> l = new ArrayList<>();
        counts().forEach((target, byTransport) -> {
            Map<Outcome, Integer> all = byTransport.getOrDefault("*", empty());
            int n = all.values().stream().mapToInt(Integer::intValue).sum();
            l.add(String.format(Locale.ROOT, "%s: %d cases: %d pass, %d fail, %d deviation, %d n/a", target, n,
                    all.get(Outcome.PASS), all.get(Outcome.FAIL), all.get(Outcome.DEVIATION),
                    all.get(Outcome.NOT_APPLICABLE)));
        });
        return l;
    }

    ObjectNode json() {
        ObjectNode root = F.objectNode();
        root.put("totalMillis", totalMillis);
        root.put("selection", selection);
        root.put("cases", cells.stream().map(Cell::id).distinct().count());
        ObjectNode targets = root.putObject("targets");
        counts().forEach((target, byTransport) -> {
            ObjectNode t = targets.putObject(target);
            ObjectNode total = t.putObject("total");
            ObjectNode per = t.putObject("perTransport");
            byTransport.forEach((transport, outcomes) -> {
                ObjectNode o = transport.equals("*") ? total : per.putObject(transport);
                outcomes.forEach((k, v) -> o.put(k.json, v));
            });
        });
        ArrayNode arr = root.putArray("results");
        for (Cell c : cells) {
            ObjectNode o = arr.addObject().put("id", c.id()).put("transport", c.transport()).put("target", c.target())
                    .put("outcome", c.outcome().json).put("detail", c.detail()).put("millis", c.millis());
            if (!c.config().isEmpty()) {
                o.put("peerConfig", c.config());
            }
            if (!c.text().isEmpty()) {
                o.put("text", c.text());
            }
            if (!c.peerLog().isEmpty()) {
                o.put("peerLog", c.peerLog());
            }
        }
        return root;
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String css(Outcome o) {
        return switch (o) {
            case PASS -> "pass";
            case FAIL -> "fail";
            case DEVIATION -> "known-peer-bug";
            case NOT_APPLICABLE -> "unsupported";
        };
    }

    /** The HTML section: counts per target and transport, the case × target table, then failures and deviations. */
    String html() {
        StringBuilder h = new StringBuilder();
        h.append("<h2 id=\"conformance\">Conformance fixtures against tunnelwire and the peers</h2>\n")
                .append("<p class=\"small\">Every fixture of <code>fixtures/</code> replayed by the conformance engine "
                        + "against tunnelwire in-process and against each reference peer configured from the case's "
                        + "neutral options (server role: the peer forwards to the engine's application; client role: "
                        + "the peer dials the engine's fake server). deviation = failed as documented in the "
                        + "fixture's <code>peerDeviations</code>; n/a = the peer has no such transport or option. "
                        + String.format(Locale.ROOT, "%.1f s", totalMillis / 1000.0)
                        + (selection.isEmpty() ? "" : "; selection " + esc(selection)) + ".</p>\n");
        Map<String, Map<String, Map<Outcome, Integer>>> counts = counts();
        List<String> transports = cells.stream().map(Cell::transport).distinct().sorted().toList();
        h.append("<table>\n<tr><th>target</th><th>total</th>");
        for (String t : transports) {
            h.append("<th>").append(esc(t)).append("</th>");
        }
        h.append("</tr>\n");
        for (String target : TARGETS) {
            h.append("<tr><th>").append(esc(target)).append("</th>");
            for (String t : prepend("*", transports)) {
                Map<Outcome, Integer> o = counts.get(target).get(t);
                h.append("<td class=\"small\">").append(o == null ? "—" : countText(o)).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
        Map<String, Map<String, Cell>> rows = new TreeMap<>();
        for (Cell c : cells) {
            rows.computeIfAbsent(c.id(), k -> new LinkedHashMap<>()).put(c.target(), c);
        }
        h.append("<details open><summary>per-case table (").append(rows.size()).append(" cases)</summary>\n<table>\n")
                .append("<tr><th>case</th>");
        for (String t : TARGETS) {
            h.append("<th>").append(esc(t)).append("</th>");
        }
        h.append("</tr>\n");
        for (Map.Entry<String, Map<String, Cell>> row : rows.entrySet()) {
            h.append("<tr><td><code>").append(esc(row.getKey())).append("</code></td>");
            for (String t : TARGETS) {
                Cell c = row.getValue().get(t);
                if (c == null) {
                    h.append("<td class=\"none\">—</td>");
                    continue;
                }
                h.append("<td class=\"").append(css(c.outcome())).append("\" title=\"").append(esc(c.detail()))
                        .append("\">");
                if (c.outcome() == Outcome.FAIL || c.outcome() == Outcome.DEVIATION) {
                    h.append("<a href=\"#").append(c.anchor()).append("\">").append(c.outcome().json).append("</a>");
                } else {
                    h.append(c.outcome().json);
                }
                if (c.outcome() == Outcome.NOT_APPLICABLE) {
                    h.append("<br><span class=\"small\">").append(esc(abbreviate(c.detail(), 90))).append("</span>");
                }
                h.append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table></details>\n");
        List<Cell> bad = cells.stream().filter(c -> c.outcome() == Outcome.FAIL || c.outcome() == Outcome.DEVIATION)
                .toList();
        if (!bad.isEmpty()) {
            h.append("<h3>Conformance failures and documented deviations</h3>\n");
            for (Cell c : bad) {
                h.append("<h4 id=\"").append(c.anchor()).append("\">").append(esc(c.target())).append(" — ")
                        .append(esc(c.id())).append(" — ").append(c.outcome().json).append("</h4>\n<p>")
                        .append(esc(c.detail())).append("</p>\n");
                if (!c.config().isEmpty()) {
                    h.append("<p class=\"small\">peer inbound: <code>").append(esc(c.config())).append("</code></p>\n");
                }
                h.append("<details><summary>failure text and wire log</summary><pre>").append(esc(c.text()))
                        .append("</pre></details>\n");
                if (!c.peerLog().isEmpty()) {
                    h.append("<details><summary>peer log during the case</summary><pre>").append(esc(c.peerLog()))
                            .append("</pre></details>\n");
                }
            }
        }
        return h.toString();
    }

    private static List<String> prepend(String first, List<String> rest) {
        List<String> l = new ArrayList<>();
        l.add(first);
        l.addAll(rest);
        return l;
    }

    private static String countText(Map<Outcome, Integer> o) {
        StringBuilder sb = new StringBuilder();
        for (Outcome k : Outcome.values()) {
            if (o.get(k) > 0) {
                sb.append(sb.length() == 0 ? "" : " · ").append(o.get(k)).append(' ').append(k.json);
            }
        }
        return sb.length() == 0 ? "—" : sb.toString();
    }

    private static String abbreviate(String s, int max) {
        String one = s.replace('\n', ' ');
        return one.length() <= max ? one : one.substring(0, max) + "…";
    }
}
