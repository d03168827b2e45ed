package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

import static dev.tunnelwire.interop.Role.F;

/** The load section of the interop report ({@link LoadIT}): per transport and pair, the figures of the tier. */
final class LoadReport {

    /** One transport variant; filled in while {@link LoadIT} runs it. */
    static final class Row {
        final String name;
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong tunnels = new AtomicLong();
        volatile long worstProbeMillis = -1;
        volatile long millis;
        volatile int fdsAfter;
        volatile String state = "running";
        volatile String reason = "";

        Row(String name) {
            this.name = name;
        }

        String describe() {
            return String.format(Locale.ROOT, "%-60s %s: %d MiB moved, %d tunnels, worst probe %d ms, %.1f s%s",
                    name, state, bytes.get() >> 20, tunnels.get(), worstProbeMillis, millis / 1000.0,
                    reason.isEmpty() ? "" : " — " + reason);
        }
    }

    private static volatile LoadReport current;

    final List<Row> rows;
    final long totalMillis;
    final boolean full;

    LoadReport(List<Row> rows, long totalMillis, boolean full) {
        this.rows = List.copyOf(rows);
        this.totalMillis = totalMillis;
        this.full = full;
    }

    static LoadReport current() {
        return current;
    }

    static void publish(LoadReport r) {
        current = r;
    }

    ObjectNode json() {
        ObjectNode o = F.objectNode();
        o.put("size", full ? "full" : "reduced");
        o.put("totalMillis", totalMillis);
        o.put("pair", "tunnelwire client -> tunnelwire server");
        ArrayNode a = o.putArray("rows");
        for (Row r : rows) {
            ObjectNode x = a.addObject();
            x.put("transport", r.name).put("pair", "tunnelwire/tunnelwire").put("state", r.state)
                    .put("bytes", r.bytes.get()).put("tunnels", r.tunnels.get())
                    .put("worstProbeMillis", r.worstProbeMillis).put("millis", r.millis)
                    .put("fdsAboveBaseline", r.fdsAfter);
            if (!r.reason.isEmpty()) {
                x.put("reason", r.reason);
            }
        }
        return o;
    }

    String html() {
        StringBuilder h = new StringBuilder();
        h.append("<h2 id=\"load\">Load</h2>\n<p class=\"small\">").append(full ? "Full" : "Reduced")
                .append(" size (scripts/load.sh runs the full one). Each transport: a long-lived listener and dialer, "
                        + "3 sequential bulk echoes on the pooled dialer, ").append(LoadIT.CONCURRENT)
                .append(" concurrent bulk tunnels with a 100 ms probe tunnel beside them (worst round trip shown), "
                        + "short tunnels, resets mid-transfer, an idle tunnel; SHA-256 checked, file descriptors back "
                        + "to the baseline. tunnelwire against tunnelwire; the peers are not in the tier yet.</p>\n"
                        + "<table>\n<tr><th>transport</th><th>pair</th><th>state</th><th>moved</th><th>tunnels</th>"
                        + "<th>worst probe</th><th>time</th></tr>\n");
        for (Row r : rows) {
            h.append("<tr><td>").append(esc(r.name)).append("</td><td>tunnelwire/tunnelwire</td><td class=\"")
                    .append(r.state.equals("pass") ? "pass" : "fail").append("\">").append(esc(r.state))
                    .append(r.reason.isEmpty() ? "" : "<br><span class=\"small\">" + esc(r.reason) + "</span>")
                    .append("</td><td>").append(r.bytes.get() >> 20).append(" MiB</td><td>").append(r.tunnels.get())
                    .append("</td><td>").append(r.worstProbeMillis).append(" ms</td><td>")
                    .append(String.format(Locale.ROOT, "%.1f s", r.millis / 1000.0)).append("</td></tr>\n");
        }
        h.append("</table>\n");
        return h.toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
