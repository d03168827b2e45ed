package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.conformance.Http1;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static dev.tunnelwire.interop.Role.F;

/**
 * Normalises GOST's plain HTTP tunnel: authorize, pull and push requests over several HTTP/1.1 connections, the token
 * captured (server role) or a placeholder (client role), the pull stream split into its lines.
 */
final class PhtNormaliser extends FixtureNormaliser {

    PhtNormaliser(RecordedPair pair, Recording rec) {
        super(pair, rec);
    }

    // ---------------------------------------------------------------- PHT

    /** One PHT event: a request, a response head, or one line of a pull response. */
    private record PhtEvent(long time, int conn, Http1.Message head, byte[] body, byte[] line) {
        boolean request() {
            return head != null && head.method() != null;
        }
    }

    @Override
    void fill(ObjectNode server, ObjectNode client) {
        Map<Integer, ByteArrayOutputStream> ups = new java.util.TreeMap<>();
        Map<Integer, ByteArrayOutputStream> downs = new java.util.TreeMap<>();
        Map<Integer, List<long[]>> upC = new java.util.HashMap<>();
        Map<Integer, List<long[]>> downC = new java.util.HashMap<>();
        for (int i = 0; i < rec.entries().size(); i++) {
            Transcript.Entry e = rec.entries().get(i);
            int k = rec.conn(i);
            boolean u = e.dir() == Transcript.Dir.TO_SERVER;
            ByteArrayOutputStream o = (u ? ups : downs).computeIfAbsent(k, x -> new ByteArrayOutputStream());
            (u ? upC : downC).computeIfAbsent(k, x -> new ArrayList<>()).add(new long[] {o.size(), e.micros()});
            o.writeBytes(e.data());
        }
        List<PhtEvent> events = new ArrayList<>();
        for (Map.Entry<Integer, ByteArrayOutputStream> c : ups.entrySet()) {
            byte[] b = c.getValue().toByteArray();
            int off = 0;
            while (off < b.length) {
                int end = headEnd(b, off);
                if (end < 0) {
                    throw new IllegalStateException("incomplete request head on connection " + c.getKey());
                }
                Http1.Message m = Http1.parseHead(Arrays.copyOfRange(b, off, end - 4));
                List<String> cl = m.values("Content-Length", false);
                int n = cl.isEmpty() ? 0 : Integer.parseInt(cl.get(0));
                events.add(new PhtEvent(timeOf(upC.get(c.getKey()), off), c.getKey(), m,
                        Arrays.copyOfRange(b, end, end + n), null));
                off = end + n;
            }
        }
        for (Map.Entry<Integer, ByteArrayOutputStream> c : downs.entrySet()) {
            byte[] b = c.getValue().toByteArray();
            int off = 0;
            while (off < b.length) {
                int end = headEnd(b, off);
                if (end < 0) {
                    throw new IllegalStateException("incomplete response head on connection " + c.getKey());
                }
                Http1.Message m = Http1.parseHead(Arrays.copyOfRange(b, off, end - 4));
                long t = timeOf(downC.get(c.getKey()), off);
                if (m.values("Transfer-Encoding", false).stream().anyMatch(v -> v.contains("chunked"))) {
                    events.add(new PhtEvent(t, c.getKey(), m, new byte[0], null));
                    // chunks: size CRLF data CRLF; the lines of the data, each at the time of its chunk
                    off = end;
                    ByteArrayOutputStream line = new ByteArrayOutputStream();
                    while (off < b.length) {
                        int crlf = indexOf(b, off, "\r\n");
                        if (crlf < 0) {
                            break;
                        }
                        int size = Integer.parseInt(new String(b, off, crlf - off, StandardCharsets.US_ASCII)
                                .trim(), 16);
                        long ct = timeOf(downC.get(c.getKey()), off);
                        off = crlf + 2;
                        if (size == 0) {
                            off += 2;
                            break;
                        }
                        for (int i = off; i < off + size; i++) {
                            if (b[i] == '\n') {
                                byte[] l = line.toByteArray();
                                line.reset();
                                events.add(new PhtEvent(ct, c.getKey(), null, null,
                                        l.length == 0 ? l : Base64.getDecoder().decode(l)));
                            } else {
                                line.write(b[i]);
                            }
                        }
                        off += size + 2;
                    }
                } else {
                    List<String> cl = m.values("Content-Length", false);
                    int n = cl.isEmpty() ? 0 : Integer.parseInt(cl.get(0));
                    events.add(new PhtEvent(t, c.getKey(), m, Arrays.copyOfRange(b, end, end + n), null));
                    off = end + n;
                }
            }
        }
        events.sort(java.util.Comparator.comparingLong(PhtEvent::time));
        Map<String, Object> o = pair.clientOptions();
        String authorizePath = String.valueOf(o.getOrDefault("authorizePath", "/authorize"));
        String pullPath = String.valueOf(o.getOrDefault("pullPath", "/pull"));
        String pushPath = String.valueOf(o.getOrDefault("pushPath", "/push"));
        String token = null;
        for (PhtEvent e : events) {
            if (e.head() != null && !e.request() && new String(e.body(), StandardCharsets.US_ASCII).startsWith("token=")) {
                token = new String(e.body(), StandardCharsets.US_ASCII).substring("token=".length());
                break;
            }
        }
        if (token == null) {
            throw new IllegalStateException("no authorize response with a token");
        }
        String authority = "127.0.0.1:" + rec.dialPort();
        ObjectNode tok = vars(client).putObject("token").put("encode", "hex");
        tok.putObject("of").put("random", 10);
        ArrayNode s = steps(server);
        ArrayNode c = steps(client);
        c.addObject().put("op", "app_open");
        // which request each response answers: the last request on its connection
        Map<Integer, String> kindOf = new java.util.HashMap<>();
        Map<Integer, String> nameOf = new java.util.HashMap<>();
        int pushes = 0;
        boolean opened = false;
        for (PhtEvent e : events) {
            if (e.request()) {
                String path = e.head().target().contains("?")
                        ? e.head().target().substring(0, e.head().target().indexOf('?')) : e.head().target();
                String kind = path.equals(authorizePath) ? "authorize" : path.equals(pullPath) ? "pull"
                        : path.equals(pushPath) ? "push" : null;
                if (kind == null) {
                    throw new IllegalStateException("unexpected PHT request " + e.head().startLine());
                }
                String name = kind.equals("push") ? "push" + (++pushes) : kind;
                kindOf.put(e.conn(), kind);
                nameOf.put(e.conn(), name);
                String target = e.head().target().replace(token, "${token}");
                // server role: the engine sends the recorded request on a connection per recorded connection
                ObjectNode send = s.addObject().put("op", "send").put("conn", "c" + e.conn());
                ObjectNode h = send.putObject("http").put("method", e.head().method()).put("target", target)
                        .put("version", e.head().version());
                ArrayNode hl = h.putArray("headers");
                for (String[] kv : e.head().headers()) {
                    if (!kv[0].equalsIgnoreCase("Content-Length")) {
                        hl.addArray().add(kv[0]).add(kv[1].equals(authority) ? F.textNode("${server.authority}")
                                : PeerVaryingValues.headerValue(kv[0], kv[1]));
                    }
                }
                byte[] pushed = null;
                if (e.body().length > 0) {
                    String line = new String(e.body(), StandardCharsets.US_ASCII);
                    pushed = line.endsWith("\n") ? app(Base64.getDecoder().decode(line.strip())) : null;
                    if (pushed == null) {
                        throw new IllegalStateException("a push body without a line: " + line);
                    }
                    ObjectNode body = h.putObject("body");
                    ArrayNode cat = body.putArray("concat");
                    cat.addObject().put("encode", "base64").set("of", data(pushed));
                    cat.add("\n");
                    h.put("contentLength", true);
                }
                send.put("note", "The " + pair.clientPeer() + " client's " + kind + " request as recorded ("
                        + "connection " + e.conn() + ").");
                if (pushed != null) {
                    // the server answers a push once the application has taken the bytes
                    s.addObject().put("op", "expect_deliver").set("data", data(pushed));
                }
                // client role
                if (pushed != null && !opened) {
                    c.addObject().put("op", "expect_open");
                    c.addObject().put("op", "app_write").set("data", data(pushed));
                    opened = true;
                }
                ObjectNode ex = c.addObject().put("op", "expect").put("conn", "*").put("bindAs", name);
                ObjectNode eh = ex.putObject("http").put("method", e.head().method()).put("target", target);
                if (pushed != null) {
                    ObjectNode body = eh.putObject("body");
                    ArrayNode cat = body.putArray("concat");
                    cat.addObject().put("encode", "base64").set("of", data(pushed));
                    cat.add("\n");
                }
                ex.put("note", "The " + pair.clientPeer() + " client's " + kind + " request: "
                        + e.head().method() + " " + target + ".");
            } else if (e.head() != null) {
                String kind = kindOf.getOrDefault(e.conn(), "");
                String name = nameOf.get(e.conn());
                // server role: expect the response at the level where it is deterministic
                ObjectNode ex = s.addObject().put("op", "expect").put("conn", "c" + e.conn());
                ObjectNode eh = ex.putObject("http").put("status", e.head().status());
                // client role: send the recorded response (Date left out, the token a placeholder)
                ObjectNode send = c.addObject().put("op", "send").put("conn", name);
                ObjectNode sh = send.putObject("http").put("status", e.head().status())
                        .put("reason", e.head().reason()).put("version", e.head().version());
                ArrayNode shl = sh.putArray("headers");
                for (String[] kv : e.head().headers()) {
                    if (!kv[0].equalsIgnoreCase("Date")) {
                        shl.addArray().add(kv[0]).add(PeerVaryingValues.headerValue(kv[0], kv[1]));
                    }
                }
                if (kind.equals("authorize")) {
                    eh.putObject("bodyMatch").put("regex", "token=([0-9a-v]{20})").put("capture", "token");
                    ex.put("note", "200 with the body token=<xid> (20 characters of [0-9a-v]), as the "
                            + pair.serverPeer() + " server answered.");
                    sh.put("body", "token=${token}");
                } else if (kind.equals("pull")) {
                    eh.putObject("headers").putObject("Transfer-Encoding").put("token", "chunked");
                    eh.put("bodyIsStream", true);
                    ex.put("note", "The pull response is chunked; its head comes at once.");
                } else if (kind.startsWith("push")) {
                    List<String> cl = e.head().values("Content-Length", false);
                    if (!cl.isEmpty()) {
                        eh.putObject("headers").put("Content-Length", cl.get(0));
                    }
                    if (e.body().length > 0) {
                        sh.set("body", data(e.body()));
                    }
                }
            } else if (e.line() != null) {
                if (e.line().length == 0) {
                    continue;
                }
                byte[] d = app(e.line());
                s.addObject().put("op", "app_write").set("data", data(d));
                s.addObject().put("op", "expect").put("conn", "c" + e.conn()).put("note", "One line "
                        + "base64std(bytes) + LF per write.").set("pht", data(d));
                c.addObject().put("op", "send").put("conn", nameOf.get(e.conn())).set("pht", data(d));
                c.addObject().put("op", "expect_deliver").set("data", data(d));
            }
        }
        // the server role's first connection is "main" for readability
        renameConn(s, "c" + events.get(0).conn(), "main");
        tidy(server);
        tidy(client);
    }

    private static void renameConn(ArrayNode steps, String from, String to) {
        for (JsonNode st : steps) {
            if (from.equals(st.path("conn").asText())) {
                ((ObjectNode) st).put("conn", to);
            }
        }
    }

    private static int indexOf(byte[] b, int from, String what) {
        byte[] w = what.getBytes(StandardCharsets.US_ASCII);
        for (int i = from; i + w.length <= b.length; i++) {
            if (Arrays.equals(b, i, i + w.length, w, 0, w.length)) {
                return i;
            }
        }
        return -1;
    }
}
