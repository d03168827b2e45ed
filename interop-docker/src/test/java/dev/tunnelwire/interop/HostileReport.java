package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;

import static dev.tunnelwire.interop.Role.F;

/**
 * The hostile-input section of the interop report ({@link HostileIT}): per probe and listener, the connections
 * made, how many the server still held at the probe's deadline, the worst time to close, the memory it took where
 * measured, and notes (log-line counts, streams reset).
 */
final class HostileReport {

    /**
     * One row.
     *
     * @param probe       slowloris, junk, oversize ws frame, ...
     * @param listener    the listener under attack
     * @param connections connections (or requests) made
     * @param held        connections still open at the deadline (or fds above the baseline, for the fd probe)
     * @param seconds     worst time until the server closed a connection (or the probe's duration)
     * @param bytes       memory growth measured during the probe, -1 when not measured
     * @param note        figures that do not fit a column
     */
    record Probe(String probe, String listener, int connections, int held, double seconds, long bytes, String note) {
    }

    private static volatile HostileReport current;

    final List<Probe> probes;
    final long totalMillis;

    HostileReport(List<Probe> probes, long totalMillis) {
        this.probes = List.copyOf(probes);
        this.totalMillis = totalMillis;
    }

    static HostileReport current() {
        return current;
    }

    static void publish(HostileReport r) {
        current = r;
    }

    ObjectNode json() {
        ObjectNode o = F.objectNode();
        o.put("totalMillis", totalMillis);
        o.put("connectionsPerListener", HostileProbes.CONNECTIONS);
        o.put("deadlineMillis", HostileProbes.DEADLINE_MILLIS);
        ArrayNode a = o.putArray("probes");
        for (Probe p : probes) {
            ObjectNode r = a.addObject();
            r.put("probe", p.probe()).put("listener", p.listener()).put("connections", p.connections())
                    .put("held", p.held()).put("seconds", Math.round(p.seconds() * 100) / 100.0);
            if (p.bytes() >= 0) {
                r.put("bytes", p.bytes());
            }
            if (!p.note().isEmpty()) {
                r.put("note", p.note());
            }
        }
        return o;
    }

    String html() {
        StringBuilder h = new StringBuilder();
        h.append("<h2 id=\"hostile\">Hostile input</h2>\n<p class=\"small\">tunnelwire's listeners with their default "
                + "limits, attacked from this JVM (").append(HostileProbes.CONNECTIONS)
                .append(" connections per listener and probe; a connection still open after ")
                .append(HostileProbes.DEADLINE_MILLIS / 1000).append(" s is <b>held</b>). docs/security.md lists the "
                + "limits and timeouts.</p>\n<table>\n<tr><th>probe</th><th>listener</th><th>connections</th>"
                + "<th>held</th><th>worst close (s)</th><th>memory</th><th>note</th></tr>\n");
        for (Probe p : probes) {
            h.append("<tr><td>").append(esc(p.probe())).append("</td><td>").append(esc(p.listener()))
                    .append("</td><td>").append(p.connections()).append("</td><td class=\"")
                    .append(p.held() == 0 ? "pass" : "fail").append("\">").append(p.held()).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.2f", p.seconds())).append("</td><td>")
                    .append(p.bytes() < 0 ? "" : String.format(Locale.ROOT, "%.1f MiB", p.bytes() / 1048576.0))
                    .append("</td><td>").append(esc(p.note())).append("</td></tr>\n");
        }
        h.append("</table>\n");
        return h.toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
