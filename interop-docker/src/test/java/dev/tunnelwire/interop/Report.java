package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.interop.Cell.Direction;
import dev.tunnelwire.interop.Cell.State;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import static dev.tunnelwire.interop.Role.F;

/**
 * The matrix report: {@code report.json} (machine-readable) and {@code index.html} (the matrix, coloured, with
 * timings, throughput and, for failures, the wire transcript and the peer's log).
 */
record Report(Instant started, long totalMillis, long prepareMillis, String gitRevision, String runtime,
              String runtimeDescription, List<PeerInfo> peers, List<CellResult> cells) {

    /** A peer as built and used. */
    record PeerInfo(String name, String version, String binary, String buildStamp) {
    }

    Map<State, Long> counts() {
        Map<State, Long> m = new EnumMap<>(State.class);
        for (State s : State.values()) {
            m.put(s, 0L);
        }
        cells.forEach(c -> m.merge(c.state, 1L, Long::sum));
        return m;
    }

    String summary() {
        return cells.size() + " cells on the " + runtime + " runtime in " + String.format(Locale.ROOT, "%.1f s",
                totalMillis / 1000.0) + ": " + counts().entrySet().stream()
                .map(e -> e.getValue() + " " + e.getKey().json()).collect(Collectors.joining(", "));
    }

    /** The report written last in this JVM (the conformance IT re-writes it with its section). */
    static volatile Report last;

    void write(Path dir) throws IOException {
        last = this;
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("report.json"), Role.JSON.writeValueAsString(json()), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("index.html"), html(), StandardCharsets.UTF_8);
    }

    ObjectNode json() {
        ObjectNode root = F.objectNode();
        root.put("generated", started.toString());
        root.put("gitRevision", gitRevision);
        root.put("runtime", runtime);
        root.put("runtimeDescription", runtimeDescription);
        root.put("totalMillis", totalMillis);
        root.put("prepareMillis", prepareMillis);
        ObjectNode w = root.putObject("workload");
        w.put("pingPongRounds", Workload.PING_ROUNDS);
        w.put("bulkBytesEachWay", Workload.BULK_BYTES);
        w.put("concurrentTunnels", Workload.CONCURRENT);
        w.put("concurrentBulkBytesEachWay", Workload.CONCURRENT_BULK_BYTES);
        ObjectNode ps = root.putObject("peers");
        for (PeerInfo p : peers) {
            ObjectNode o = ps.putObject(p.name());
            o.put("version", p.version());
            o.put("binary", p.binary());
            o.put("build", p.buildStamp());
        }
        ObjectNode counts = root.putObject("counts");
        counts().forEach((k, v) -> counts.put(k.json(), v));
        ArrayNode arr = root.putArray("cells");
        for (CellResult c : cells) {
            ObjectNode o = arr.addObject();
            o.put("id", c.cell().id());
            o.put("peer", c.cell().peer());
            o.put("transport", c.cell().transport());
            o.put("variant", c.cell().variant());
            o.put("direction", c.cell().direction().json());
            o.put("tls", c.cell().tls());
            o.put("state", c.state.json());
            o.put("reason", c.reason);
            o.put("bytes", c.bytes);
            o.put("millis", c.millis);
            o.put("bulkMegabytesPerSecond", Math.round(c.megabytesPerSecond * 10) / 10.0);
            o.put("ours", c.def.ours() == null ? "" : c.def.ours().describe());
            if (!c.transcript.isEmpty()) {
                o.put("transcript", c.transcript);
            }
            if (!c.peerLog.isEmpty()) {
                o.put("peerLogTail", c.peerLog);
            }
        }
        ConformanceReport conformance = ConformanceReport.current();
        if (conformance != null) {
            root.set("conformance", conformance.json());
        }
        HostileReport hostile = HostileReport.current();
        if (hostile != null) {
            root.set("hostile", hostile.json());
        }
        LoadReport load = LoadReport.current();
        if (load != null) {
            root.set("load", load.json());
        }
        return root;
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private record RowKey(String peer, String transport, String variant, boolean tls) {
    }

    String html() {
        Map<RowKey, Map<Direction, CellResult>> rows = new LinkedHashMap<>();
        cells.stream()
                .sorted(Comparator.comparing((CellResult c) -> c.cell().peer())
                        .thenComparing(c -> c.cell().transport())
                        .thenComparing(c -> c.cell().variant())
                        .thenComparing(c -> c.cell().tls()))
                .forEach(c -> rows.computeIfAbsent(
                                new RowKey(c.cell().peer(), c.cell().transport(), c.cell().variant(), c.cell().tls()),
                                k -> new EnumMap<>(Direction.class))
                        .put(c.cell().direction(), c));
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
                .append("<title>tunnelwire interop matrix</title>\n<style>\n")
                .append("body{font-family:system-ui,sans-serif;margin:24px;color:#222}\n")
                .append("table{border-collapse:collapse;margin:12px 0}\n")
                .append("th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\n")
                .append("th{background:#f0f0f0}\n")
                .append("td.pass{background:#c8f0c8}td.fail{background:#f8c0c0}\n")
                .append("td.unsupported{background:#e0e0e0;color:#555}td.known-peer-bug{background:#f8e0a0}\n")
                .append("td.none{background:#fff;color:#999}\n")
                .append(".state{font-weight:bold}.small{font-size:85%;color:#444}\n")
                .append("td.pass,td.fail,td.unsupported,td.known-peer-bug,td.none{width:30%}\n")
                .append("pre.reason{white-space:pre-wrap}\n")
                .append("pre{background:#f7f7f7;border:1px solid #ddd;padding:8px;overflow-x:auto;font-size:12px}\n")
                .append(".pill{display:inline-block;padding:2px 8px;border-radius:10px;margin-right:6px}\n")
                .append("</style></head><body>\n");
        h.append("<h1>tunnelwire interop matrix</h1>\n<p>");
        Map<State, Long> counts = counts();
        for (State s : State.values()) {
            h.append("<span class=\"pill\" style=\"background:").append(colour(s)).append("\">")
                    .append(counts.get(s)).append(' ').append(s.json()).append("</span>");
        }
        h.append("</p>\n<table>\n")
                .append(row("generated", started.toString()))
                .append(row("git revision", gitRevision))
                .append(row("runtime", runtime + " — " + runtimeDescription))
                .append(row("total time", String.format(Locale.ROOT, "%.1f s (peer build and start: %.1f s)",
                        totalMillis / 1000.0, prepareMillis / 1000.0)))
                .append(row("workload per cell", "1 tunnel: " + Workload.PING_ROUNDS + " ping-pong rounds, "
                        + (Workload.BULK_BYTES >> 20) + " MiB random each way (SHA-256), clean close; then "
                        + Workload.CONCURRENT + " concurrent tunnels with " + (Workload.CONCURRENT_BULK_BYTES >> 10)
                        + " KiB each way"));
        for (PeerInfo p : peers) {
            h.append(row("peer " + p.name(), p.version() + " — " + p.binary()));
        }
        h.append("</table>\n<h2>Matrix</h2>\n<p class=\"small\">outbound: our client → peer server → our echo "
                + "target; inbound: peer client → our server → our echo target. Throughput: single tunnel, 4 MiB "
                + "each way, both directions counted.</p>\n");
        h.append("<table>\n<tr><th>peer</th><th>transport</th><th>variant</th><th>TLS</th><th>outbound</th>"
                + "<th>inbound</th></tr>\n");
        for (Map.Entry<RowKey, Map<Direction, CellResult>> e : rows.entrySet()) {
            RowKey k = e.getKey();
            h.append("<tr><td>").append(esc(k.peer())).append("</td><td>").append(esc(k.transport()))
                    .append("</td><td>").append(esc(k.variant())).append("</td><td>").append(k.tls() ? "tls" : "plain")
                    .append("</td>");
            for (Direction d : Direction.values()) {
                CellResult c = e.getValue().get(d);
                if (c == null) {
                    h.append("<td class=\"none\">—</td>");
                    continue;
                }
                h.append("<td class=\"").append(c.state.json()).append("\"><span class=\"state\">");
                if (c.state == State.FAIL || c.state == State.KNOWN_PEER_BUG) {
                    h.append("<a href=\"#").append(c.cell().tag()).append("\">").append(c.state.json()).append("</a>");
                } else {
                    h.append(c.state.json());
                }
                h.append("</span><br><span class=\"small\">");
                if (c.state == State.PASS) {
                    h.append(String.format(Locale.ROOT, "%.2f s · %.0f MB/s · %.1f MiB", c.millis / 1000.0,
                            c.megabytesPerSecond, c.bytes / 1048576.0));
                } else if (!c.reason.isEmpty()) {
                    h.append(esc(abbreviate(c.reason, 140)));
                }
                h.append("</span></td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
        List<CellResult> bad = cells.stream()
                .filter(c -> c.state == State.FAIL || c.state == State.KNOWN_PEER_BUG).toList();
        if (!bad.isEmpty()) {
            h.append("<h2>Failures and known peer bugs</h2>\n");
            for (CellResult c : bad) {
                h.append("<h3 id=\"").append(c.cell().tag()).append("\">").append(esc(c.cell().id())).append(" — ")
                        .append(c.state.json()).append("</h3>\n<p>our side: <code>")
                        .append(esc(c.def.ours() == null ? "" : c.def.ours().describe()))
                        .append("</code></p>\n<pre class=\"reason\">")
                        .append(esc(c.reason))
                        .append("</pre>\n");
                if (!c.transcript.isEmpty()) {
                    h.append("<h4>Wire transcript (recording proxy)</h4>\n<pre>").append(esc(c.transcript))
                            .append("</pre>\n");
                }
                if (!c.peerLog.isEmpty()) {
                    h.append("<details><summary>peer log (tail)</summary><pre>").append(esc(c.peerLog))
                            .append("</pre></details>\n");
                }
            }
        }
        ConformanceReport conformance = ConformanceReport.current();
        if (conformance != null) {
            h.append(conformance.html());
        }
        HostileReport hostile = HostileReport.current();
        if (hostile != null) {
            h.append(hostile.html());
        }
        LoadReport load = LoadReport.current();
        if (load != null) {
            h.append(load.html());
        }
        h.append("<p class=\"small\">Peer configs and full logs: <a href=\"logs/\">logs/</a>; JUnit XML: "
                + "<a href=\"junit/\">junit/</a>; machine-readable: <a href=\"report.json\">report.json</a>.</p>\n");
        h.append("</body></html>\n");
        return h.toString();
    }

    private static String row(String k, String v) {
        return "<tr><th>" + esc(k) + "</th><td>" + esc(v) + "</td></tr>\n";
    }

    private static String colour(State s) {
        return switch (s) {
            case PASS -> "#c8f0c8";
            case FAIL -> "#f8c0c0";
            case UNSUPPORTED -> "#e0e0e0";
            case KNOWN_PEER_BUG -> "#f8e0a0";
        };
    }

    private static String abbreviate(String s, int max) {
        String one = s.replace('\n', ' ');
        return one.length() <= max ? one : one.substring(0, max) + "…";
    }
}
