package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.conformance.Gun;
import dev.tunnelwire.conformance.H2;
import dev.tunnelwire.conformance.Http1;
import dev.tunnelwire.conformance.WsFrame;
import dev.tunnelwire.interop.RecordedPair.Syntax;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static dev.tunnelwire.interop.Role.F;

/**
 * Turns a {@link Recording} into the two fixtures of its pair, in the step format of {@code fixtures/SCHEMA.md}, at
 * the level where the wire is deterministic:
 *
 * <ul>
 *   <li>HTTP/1 heads: the recorded client's request is sent with its exact header list (order and spelling), the
 *       {@code Host} (the recorder's address) as {@code ${server.authority}}, the WebSocket key as a fresh random
 *       {@code ${key}}; the expectations list only the headers that matter (upgrade tokens, the accept computed from
 *       the key, early data), never {@code Date}, {@code User-Agent} and the like.</li>
 *   <li>WebSocket frames are decoded; the masking of every frame is checked by the engine; the key is a placeholder.
 *       Early data (header or path) is decoded and re-encoded from the normalised bytes.</li>
 *   <li>HTTP/2 frames are decoded (HPACK) into header lists; SETTINGS and WINDOW_UPDATE are replayed, PING and
 *       acknowledgements are not; gun messages are decoded into their data (padding and framing are not
 *       compared).</li>
 *   <li>Proxy protocols are kept as the exchanges of bytes that they were (consecutive reads of one direction joined);
 *       the application's address is {@code ${app.ip.hex}}/{@code ${app.port.hex}}/{@code ${app.authority}} in the
 *       server-role fixture and a fixed {@value #FIXED_HOST}:{@value #FIXED_PORT} in the client-role one; a SOCKS5
 *       bound address (the server's ephemeral source port) is a wildcard or a random placeholder.</li>
 *   <li>Inside a transport carrying VLESS, the destination port of the VLESS request becomes {@value #FIXED_PORT}.
 *       </li>
 * </ul>
 */
final class FixtureNormaliser {

    static final String FIXED_HOST = "127.0.0.1";
    static final int FIXED_PORT = 9000;
    static final String RECORDER = "interop-docker FixtureRecorder (RecordedFixturesIT)";

    private final RecordedPair pair;
    private final Recording rec;
    private final byte[] up;
    private final byte[] down;
    /** Time of the first byte from the server: client bytes read before it were sent without waiting. */
    private final long firstDown;
    private final List<long[]> upChunks = new ArrayList<>();
    private final List<long[]> downChunks = new ArrayList<>();

    /** The two fixtures of a pair. */
    record Fixtures(ObjectNode server, ObjectNode client) {
    }

    private FixtureNormaliser(RecordedPair pair, Recording rec) {
        this.pair = pair;
        this.rec = rec;
        ByteArrayOutputStream u = new ByteArrayOutputStream();
        ByteArrayOutputStream d = new ByteArrayOutputStream();
        long first = Long.MAX_VALUE;
        for (Transcript.Entry e : rec.entries()) {
            if (e.data() == null) {
                continue;
            }
            if (e.dir() == Transcript.Dir.TO_SERVER) {
                upChunks.add(new long[] {u.size(), e.micros()});
                u.writeBytes(e.data());
            } else {
                first = Math.min(first, e.micros());
                downChunks.add(new long[] {d.size(), e.micros()});
                d.writeBytes(e.data());
            }
        }
        this.up = u.toByteArray();
        this.down = d.toByteArray();
        this.firstDown = first;
    }

    static Fixtures normalise(RecordedPair pair, Recording rec) {
        FixtureNormaliser n = new FixtureNormaliser(pair, rec);
        ObjectNode server = n.skeleton("server");
        ObjectNode client = n.skeleton("client");
        switch (pair.syntax()) {
            case WS, HTTPUPGRADE, HTTP1 -> n.http1(server, client);
            case GRPC, H2 -> n.h2(server, client);
            case RAW -> n.raw(server, client);
            case PHT -> n.pht(server, client);
            default -> throw new IllegalStateException();
        }
        return new Fixtures(server, client);
    }

    // ---------------------------------------------------------------- skeleton

    private ObjectNode skeleton(String role) {
        boolean serverRole = role.equals("server");
        ObjectNode f = F.objectNode();
        f.put("$schema", "../fixture.schema.json");
        f.put("id", serverRole ? pair.serverFixtureId() : pair.clientFixtureId());
        f.put("transport", pair.transport());
        f.put("role", role);
        f.put("kind", "positive");
        String peer = serverRole ? pair.clientPeer() : pair.serverPeer();
        f.put("title", "Recorded: " + pair.what() + " — " + (serverRole
                ? "the engine replays the " + peer + " client; the server answers as the " + pair.serverPeer()
                + " server did"
                : "the engine replays the " + peer + " server; the client sends what the " + pair.clientPeer()
                + " client sent"));
        f.put("description", "Recorded between real peers (" + pair.clientPeer() + " " + rec.clientVersion()
                + " client, " + pair.serverPeer() + " " + rec.serverVersion() + " server, cleartext) by the fixture "
                + "recorder and normalised (docs/transports/conformance.md, \"Recorded fixtures\"). The application "
                + "sends \"hello\" and the other end answers \"world\".");
        ObjectNode src = f.putObject("source");
        src.put("type", "recorded");
        src.put("peer", peer);
        src.put("version", serverRole ? rec.clientVersion() : rec.serverVersion());
        src.put("role", serverRole ? "client" : "server");
        src.put("config", serverRole ? rec.clientConfig() : rec.serverConfig());
        src.put("recorder", RECORDER);
        src.put("counterpart", (serverRole ? pair.serverPeer() + " " + rec.serverVersion() + " server"
                : pair.clientPeer() + " " + rec.clientVersion() + " client"));
        f.set("options", Role.JSON.valueToTree(serverRole ? pair.serverOptions() : pair.clientOptions()));
        f.putObject("vars");
        f.putArray("steps");
        return f;
    }

    private static ArrayNode steps(ObjectNode f) {
        return (ArrayNode) f.get("steps");
    }

    private static ObjectNode vars(ObjectNode f) {
        return (ObjectNode) f.get("vars");
    }

    /** Removes an empty {@code vars}. */
    private static void tidy(ObjectNode f) {
        if (f.get("vars").isEmpty()) {
            f.remove("vars");
        }
    }

    // ---------------------------------------------------------------- HTTP/1 based

    private void http1(ObjectNode server, ObjectNode client) {
        int reqEnd = headEnd(up, 0);
        int respEnd = headEnd(down, 0);
        if (reqEnd < 0 || respEnd < 0) {
            throw new IllegalStateException("no complete HTTP head in both directions");
        }
        Http1.Message req = Http1.parseHead(Arrays.copyOf(up, reqEnd - 4));
        Http1.Message resp = Http1.parseHead(Arrays.copyOf(down, respEnd - 4));
        boolean ws = pair.syntax() == Syntax.WS;
        // bytes the client sent right behind its head, before anything came back (pipelined early data)
        int lastBefore = reqEnd;
        for (int i = 0; i < upChunks.size(); i++) {
            long end = i + 1 < upChunks.size() ? upChunks.get(i + 1)[0] : up.length;
            if (upChunks.get(i)[1] < firstDown) {
                lastBefore = (int) Math.max(lastBefore, end);
            }
        }
        byte[] upEarlyRaw = Arrays.copyOfRange(up, reqEnd, Math.max(reqEnd, lastBefore));
        byte[] upRest = Arrays.copyOfRange(up, Math.max(reqEnd, lastBefore), up.length);
        byte[] downRest = Arrays.copyOfRange(down, respEnd, down.length);

        // early data carried in the head
        String edHeader = null;
        byte[] ed = new byte[0];
        String pathPrefix = null;
        String target = req.target();
        Map<String, Object> co = pair.clientOptions();
        String path = String.valueOf(co.getOrDefault("path", "/"));
        boolean xrayEd = path.contains("?ed=");
        if (ws && (xrayEd || "header".equals(co.get("earlyData")))) {
            edHeader = String.valueOf(co.getOrDefault("earlyDataHeader", "Sec-WebSocket-Protocol"));
            List<String> v = req.values(edHeader, false);
            if (!v.isEmpty()) {
                ed = Base64.getUrlDecoder().decode(v.get(0));
            }
        } else if (ws && "path".equals(co.get("earlyData")) && target.length() > path.length()
                && target.startsWith(path)) {
            pathPrefix = path;
            String token = target.substring(path.length());
            ed = Base64.getUrlDecoder().decode(token.startsWith("/") ? token.substring(1) : token);
            if (token.startsWith("/")) {
                pathPrefix = path + "/";
            }
        }
        byte[] edNorm = app(ed);
        boolean hasEd = ed.length > 0;
        if (hasEd) {
            ObjectNode edVar = F.objectNode().put("encode", "base64url");
            edVar.set("of", data(edNorm));
            vars(server).set("ed", edVar);
            vars(client).set("ed", edVar.deepCopy());
        }

        // the data of both directions
        List<WsFrame> upFrames = new ArrayList<>();
        List<WsFrame> upEarlyFrames = new ArrayList<>();
        List<WsFrame> downFrames = new ArrayList<>();
        ByteArrayOutputStream upData = new ByteArrayOutputStream();
        upData.writeBytes(ed);
        ByteArrayOutputStream downData = new ByteArrayOutputStream();
        if (ws) {
            // control frames (ping/pong keepalives, a close racing the end of the capture) are not part of the
            // exchange: masking is checked on every frame, the data frames are replayed
            upEarlyFrames = dataFrames(frames(upEarlyRaw), true);
            upFrames = dataFrames(frames(upRest), true);
            downFrames = dataFrames(frames(downRest), false);
            upData.writeBytes(concatData(upEarlyFrames));
            upData.writeBytes(concatData(upFrames));
            downData.writeBytes(concatData(downFrames));
        } else {
            upData.writeBytes(upEarlyRaw);
            upData.writeBytes(upRest);
            downData.writeBytes(downRest);
        }
        byte[] upApp = app(upData.toByteArray());
        byte[] downApp = app(downData.toByteArray());
        checkPayloads(upApp, downApp);

        String authority = "127.0.0.1:" + rec.dialPort();
        String targetT = pathPrefix != null ? pathPrefix + "${ed}" : target;

        // ---- server role: the engine is the recorded client
        ArrayNode s = steps(server);
        if (ws) {
            ObjectNode key = F.objectNode().put("encode", "base64");
            key.putObject("of").put("random", 16);
            vars(server).set("key", key);
        }
        ObjectNode send = s.addObject().put("op", "send");
        ObjectNode http = send.putObject("http").put("method", req.method()).put("target", targetT)
                .put("version", req.version());
        ArrayNode hl = http.putArray("headers");
        for (String[] h : req.headers()) {
            String value = h[1];
            if (h[0].equalsIgnoreCase("Host") && value.equals(authority)) {
                value = "${server.authority}";
            } else if (ws && h[0].equalsIgnoreCase("Sec-WebSocket-Key")) {
                value = "${key}";
            } else if (edHeader != null && h[0].equalsIgnoreCase(edHeader) && hasEd) {
                value = "${ed}";
            }
            hl.addArray().add(h[0]).add(value);
        }
        send.put("note", "The " + pair.clientPeer() + " client's request, header order and spelling as recorded.");
        if (upEarlyRaw.length > 0) {
            if (ws) {
                for (WsFrame fr : upEarlyFrames) {
                    s.add(sendWs(fr));
                }
            } else {
                s.addObject().put("op", "send").set("bytes", data(app(upEarlyRaw)));
                ((ObjectNode) s.get(s.size() - 1)).put("note", "Recorded: the client sent these bytes right "
                        + "behind its request, without waiting for the response.");
            }
        }
        ObjectNode exp = s.addObject().put("op", "expect");
        ObjectNode eh = exp.putObject("http").put("status", resp.status());
        ObjectNode ehh = eh.putObject("headers");
        if (ws || pair.syntax() == Syntax.HTTPUPGRADE) {
            ehh.putObject("Upgrade").put("ci", "websocket");
            ehh.putObject("Connection").put("token", "upgrade");
        }
        if (ws) {
            ehh.putObject("Sec-WebSocket-Accept").putObject("wsAccept").put("var", "key");
            if (edHeader != null && hasEd && !resp.values(edHeader, false).isEmpty()) {
                ehh.put(edHeader, "${ed}");
            } else if (edHeader != null && hasEd) {
                // the recorded server left it out; the reference servers differ here (Xray echoes the token,
                // sing-box does not) and both kinds of client accept both, so echoing the exact token is allowed
                ehh.putObject(edHeader).put("optional", "${ed}");
            }
        }
        eh.put("bodyIsStream", true);
        exp.put("note", "The " + pair.serverPeer() + " server answered " + resp.startLine()
                + (ws ? " with the accept of the key" : "") + ".");
        if (ws) {
            for (WsFrame fr : upFrames) {
                s.add(sendWs(fr));
            }
        } else if (upRest.length > 0) {
            s.addObject().put("op", "send").set("bytes", data(app(upRest)));
        }
        s.addObject().put("op", "expect_deliver").put("note", "The application receives what the "
                + pair.clientPeer() + " client carried.").set("data", data(upApp));
        s.addObject().put("op", "app_write").set("data", data(downApp));
        if (ws) {
            List<WsFrame> dataFrames = downFrames.stream().filter(fr -> fr.opcode() < 8).toList();
            ObjectNode e = s.addObject().put("op", "expect");
            if (dataFrames.size() == 1) {
                e.putObject("ws").put("opcode", WsFrame.opName(dataFrames.get(0).opcode())).put("fin", true)
                        .set("payload", data(downApp));
                e.put("note", "As the " + pair.serverPeer() + " server: one unmasked " + WsFrame.opName(
                        dataFrames.get(0).opcode()) + " frame.");
            } else {
                e.putObject("wsData").set("data", data(downApp));
            }
        } else {
            s.addObject().put("op", "expect").set("bytes", data(downApp));
        }
        tidy(server);

        // ---- client role: the engine is the recorded server
        ArrayNode c = steps(client);
        // the first payload is what the recorded client put into its handshake (early data), else everything
        byte[] first = hasEd ? edNorm : upApp;
        byte[] later = hasEd ? app(concat(concatData(upEarlyFrames), concatData(upFrames))) : new byte[0];
        ObjectNode open = c.addObject().put("op", "app_open");
        open.set("data", data(first));
        if (hasEd) {
            open.put("note", "Recorded: the " + pair.clientPeer() + " client carried these bytes as early data "
                    + "(its first write); the rest followed after the 101.");
        }
        ObjectNode ce = c.addObject().put("op", "expect");
        ObjectNode ch = ce.putObject("http").put("method", req.method()).put("target", targetT);
        ObjectNode chh = ch.putObject("headers");
        List<String> host = req.values("Host", false);
        if (!host.isEmpty() && (host.get(0).equals(authority) || host.get(0).equals("127.0.0.1"))) {
            // Xray (and tunnelwire's HTTPUpgrade client) leave the port out of Host, gost and sing-box put it in;
            // both forms name the server, and no option of the case sets the Host
            ArrayNode one = chh.putObject("Host").putArray("oneOf");
            one.add("${server.host}").add("${server.authority}");
        } else if (!host.isEmpty()) {
            chh.put("Host", host.get(0));
        }
        if (ws || pair.syntax() == Syntax.HTTPUPGRADE) {
            chh.putObject("Upgrade").put("ci", "websocket");
            chh.putObject("Connection").put("token", "upgrade");
        }
        if (ws) {
            chh.put("Sec-WebSocket-Version", "13");
            chh.putObject("Sec-WebSocket-Key").put("capture", "key");
            if (edHeader != null) {
                if (hasEd) {
                    chh.put(edHeader, "${ed}");
                } else {
                    ch.putArray("absent").add(edHeader);
                }
            }
        }
        ch.put("bodyIsStream", true);
        ce.put("note", "The " + pair.clientPeer() + " client's request: " + req.method() + " " + targetT + " with "
                + String.join(", ", names(chh)) + ".");
        if (upEarlyRaw.length > 0) {
            if (ws) {
                c.addObject().put("op", "expect").putObject("wsData").set("data",
                        data(app(concatData(upEarlyFrames))));
            } else {
                c.addObject().put("op", "expect").put("note", "Recorded: sent right behind the request, without "
                        + "waiting for the response.").set("bytes", data(app(upEarlyRaw)));
            }
        }
        ObjectNode r = c.addObject().put("op", "send");
        ObjectNode rh = r.putObject("http").put("status", resp.status()).put("reason", resp.reason())
                .put("version", resp.version());
        ArrayNode rhl = rh.putArray("headers");
        for (String[] h : resp.headers()) {
            if (h[0].equalsIgnoreCase("Date")) {
                continue;
            }
            if (ws && h[0].equalsIgnoreCase("Sec-WebSocket-Accept")) {
                ArrayNode p = rhl.addArray().add(h[0]);
                p.addObject().putObject("wsAccept").put("var", "key");
            } else if (edHeader != null && hasEd && h[0].equalsIgnoreCase(edHeader)) {
                rhl.addArray().add(h[0]).add("${ed}");
            } else {
                rhl.addArray().add(h[0]).add(h[1]);
            }
        }
        r.put("note", "The " + pair.serverPeer() + " server's response as recorded (Date left out).");
        if (later.length > 0) {
            c.addObject().put("op", "expect_open");
            c.addObject().put("op", "app_write").set("data", data(later));
        }
        byte[] upRestApp = ws ? app(concatData(upFrames)) : app(upRest);
        if (upRestApp.length > 0) {
            ObjectNode e = c.addObject().put("op", "expect");
            if (ws && upFrames.stream().filter(fr -> fr.opcode() < 8).count() == 1) {
                WsFrame fr = upFrames.stream().filter(x -> x.opcode() < 8).findFirst().orElseThrow();
                e.putObject("ws").put("opcode", WsFrame.opName(fr.opcode())).set("payload", data(upRestApp));
                e.put("note", "As the " + pair.clientPeer() + " client: one masked " + WsFrame.opName(fr.opcode())
                        + " frame.");
            } else if (ws) {
                e.putObject("wsData").set("data", data(upRestApp));
            } else {
                e.set("bytes", data(upRestApp));
            }
        }
        if (ws) {
            for (WsFrame fr : downFrames) {
                c.add(sendWs(fr));
            }
        } else {
            c.addObject().put("op", "send").set("bytes", data(downApp));
        }
        c.addObject().put("op", "expect_deliver").set("data", data(downApp));
        tidy(client);
    }

    private ObjectNode sendWs(WsFrame fr) {
        ObjectNode o = F.objectNode().put("op", "send");
        ObjectNode w = o.putObject("ws");
        if (!fr.fin()) {
            w.put("fin", false);
        }
        w.put("opcode", WsFrame.opName(fr.opcode()));
        w.set("payload", data(app(fr.payload())));
        return o;
    }

    private List<WsFrame> dataFrames(List<WsFrame> frames, boolean fromClient) {
        frames.forEach(fr -> checkMask(fr, fromClient));
        return frames.stream().filter(fr -> fr.opcode() < 8).toList();
    }

    private static byte[] dataOf(WsFrame fr) {
        return fr.opcode() < 8 ? fr.payload() : new byte[0];
    }

    private static byte[] concatData(List<WsFrame> frames) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        frames.forEach(f -> o.writeBytes(dataOf(f)));
        return o.toByteArray();
    }

    private void checkMask(WsFrame fr, boolean fromClient) {
        if (fr.masked() != fromClient) {
            throw new IllegalStateException("the " + (fromClient ? pair.clientPeer() + " client sent an unmasked"
                    : pair.serverPeer() + " server sent a masked") + " frame: " + fr);
        }
    }

    private static List<WsFrame> frames(byte[] b) {
        List<WsFrame> out = new ArrayList<>();
        int off = 0;
        while (off < b.length) {
            Object[] r = WsFrame.decode(Arrays.copyOfRange(b, off, b.length));
            if (r == null) {
                throw new IllegalStateException("incomplete WebSocket frame at the end of the capture");
            }
            out.add((WsFrame) r[0]);
            off += (int) r[1];
        }
        return out;
    }

    private static List<String> names(ObjectNode o) {
        List<String> n = new ArrayList<>();
        o.fieldNames().forEachRemaining(n::add);
        return n;
    }

    private static int headEnd(byte[] b, int from) {
        for (int i = from; i + 3 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return i + 4;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- HTTP/2

    private void h2(ObjectNode server, ObjectNode client) {
        if (up.length < H2.PREFACE.length || !Arrays.equals(Arrays.copyOf(up, H2.PREFACE.length), H2.PREFACE)) {
            throw new IllegalStateException("the client did not start with the HTTP/2 preface");
        }
        List<Integer> upOffsets = new ArrayList<>();
        List<Integer> downOffsets = new ArrayList<>();
        List<H2.Frame> upFrames = h2Frames(Arrays.copyOfRange(up, H2.PREFACE.length, up.length), upOffsets);
        List<H2.Frame> downFrames = h2Frames(down, downOffsets);
        // did the client send its first DATA before the response HEADERS arrived, or wait for them?
        long firstData = Long.MAX_VALUE;
        for (int i = 0; i < upFrames.size(); i++) {
            if (upFrames.get(i).type() == 0 && upFrames.get(i).stream() != 0) {
                firstData = timeOf(upChunks, upOffsets.get(i) + H2.PREFACE.length);
                break;
            }
        }
        long response = Long.MAX_VALUE;
        for (int i = 0; i < downFrames.size(); i++) {
            if (downFrames.get(i).type() == 1) {
                response = timeOf(downChunks, downOffsets.get(i));
                break;
            }
        }
        boolean dataWaitsForResponse = firstData > response;
        boolean gun = pair.syntax() == Syntax.GRPC;
        List<byte[]> upMsgs = new ArrayList<>();
        List<byte[]> downMsgs = new ArrayList<>();
        byte[] upApp = app(streamData(upFrames, gun, upMsgs));
        byte[] downApp = app(streamData(downFrames, gun, downMsgs));
        checkPayloads(upApp, downApp);
        H2.Frame reqHeaders = ordered(upFrames.stream().filter(f -> f.type() == 1).findFirst()
                .orElseThrow(() -> new IllegalStateException("no request HEADERS")));
        H2.Frame respHeaders = ordered(downFrames.stream().filter(f -> f.type() == 1).findFirst()
                .orElseThrow(() -> new IllegalStateException("no response HEADERS")));
        String authority = "127.0.0.1:" + rec.dialPort();

        // ---- server role
        ArrayNode s = steps(server);
        s.addObject().put("op", "send").putObject("h2").put("preface", true);
        for (H2.Frame f : upFrames) {
            if (f.type() == 4 && !f.ack()) {
                s.addObject().put("op", "send").set("h2", settings(f));
            } else if (f.type() == 8) {
                s.addObject().put("op", "send").putObject("h2").put("type", "WINDOW_UPDATE")
                        .put("stream", f.stream()).put("increment", int32(f.payload(), 0) & 0x7FFFFFFF);
            } else if (f.type() == 1) {
                f = ordered(f);
                ObjectNode h = s.addObject().put("op", "send").putObject("h2").put("type", "HEADERS")
                        .put("stream", f.stream());
                ArrayNode l = h.putArray("headers");
                for (String[] kv : f.headers()) {
                    l.addArray().add(kv[0]).add(kv[1].equals(authority) ? "${server.authority}" : kv[1]);
                }
                h.put("endStream", f.endStream());
                ((ObjectNode) s.get(s.size() - 1)).put("note", "The " + pair.clientPeer()
                        + " client's request HEADERS as recorded (list order kept).");
                // the data right after the HEADERS, as messages (gun) or DATA frames
                if (gun) {
                    for (byte[] m : upMsgs) {
                        s.addObject().put("op", "send").putObject("gun").put("stream", f.stream())
                                .set("data", data(app(m)));
                    }
                } else {
                    for (byte[] m : upMsgs) {
                        s.addObject().put("op", "send").putObject("h2").put("type", "DATA")
                                .put("stream", f.stream()).set("data", data(app(m)));
                    }
                }
            }
        }
        s.addObject().put("op", "expect_deliver").set("data", data(upApp));
        s.addObject().put("op", "app_write").set("data", data(downApp));
        ObjectNode eh = s.addObject().put("op", "expect").putObject("h2").put("type", "HEADERS")
                .put("stream", respHeaders.stream()).put("endStream", false);
        ObjectNode ehh = eh.putObject("headers");
        for (String[] kv : respHeaders.headers()) {
            if (kv[0].equals(":status") || kv[0].equals("content-type")) {
                ehh.put(kv[0], kv[1]);
            }
        }
        ((ObjectNode) s.get(s.size() - 1)).put("note", "The " + pair.serverPeer() + " server answered "
                + describe(respHeaders.headers(), authority) + ".");
        if (gun) {
            s.addObject().put("op", "expect").putObject("gunData").put("stream", respHeaders.stream())
                    .set("data", data(downApp));
        } else {
            s.addObject().put("op", "expect").putObject("h2").put("type", "DATA").put("stream", respHeaders.stream())
                    .set("data", data(downApp));
        }
        tidy(server);

        // ---- client role (the engine answers on the stream the client opened: no stream numbers)
        ArrayNode c = steps(client);
        c.addObject().put("op", "app_open").set("data", data(upApp));
        c.addObject().put("op", "expect").putObject("h2").put("preface", true);
        for (H2.Frame f : downFrames) {
            if (f.type() == 1) {
                break;
            }
            if (f.type() == 4 && !f.ack()) {
                c.addObject().put("op", "send").set("h2", settings(f));
            } else if (f.type() == 8 && f.stream() == 0) {
                c.addObject().put("op", "send").putObject("h2").put("type", "WINDOW_UPDATE")
                        .put("increment", int32(f.payload(), 0) & 0x7FFFFFFF);
            }
        }
        ObjectNode rq = c.addObject().put("op", "expect").putObject("h2").put("type", "HEADERS");
        ObjectNode rqh = rq.putObject("headers");
        for (String[] kv : reqHeaders.headers()) {
            switch (kv[0]) {
                case ":method", ":path", "content-type", "te" -> rqh.put(kv[0], kv[1]);
                // sing-box's gun client sends https even in cleartext; the scheme is not what the case is about
                case ":scheme" -> rqh.putObject(kv[0]).putArray("oneOf").add("http").add("https");
                case ":authority" -> {
                    if (kv[1].equals(authority) || kv[1].equals("127.0.0.1")) {
                        // gost's gRPC client names the host without the port, the others with it: both name the
                        // server (as Host in HTTP/1)
                        rqh.putObject(kv[0]).putArray("oneOf").add("${server.host}").add("${server.authority}");
                    } else {
                        rqh.put(kv[0], kv[1]);
                    }
                }
                default -> {
                }
            }
        }
        rq.put("endStream", false);
        ((ObjectNode) c.get(c.size() - 1)).put("note", "The " + pair.clientPeer() + " client's request: "
                + describe(reqHeaders.headers(), authority) + " (the headers that matter).");
        if (!dataWaitsForResponse) {
            expectUpData(c, gun, upApp);
        }
        ObjectNode rs = c.addObject().put("op", "send").putObject("h2").put("type", "HEADERS")
                ;
        ArrayNode rsl = rs.putArray("headers");
        for (String[] kv : respHeaders.headers()) {
            if (!kv[0].equalsIgnoreCase("date")) {
                rsl.addArray().add(kv[0]).add(kv[1]);
            }
        }
        rs.put("endStream", false);
        if (dataWaitsForResponse) {
            ((ObjectNode) c.get(c.size() - 1)).put("note", "Recorded: the " + pair.clientPeer() + " client sent its "
                    + "first DATA only after this response.");
            expectUpData(c, gun, upApp);
        }
        for (byte[] m : downMsgs) {
            if (gun) {
                c.addObject().put("op", "send").putObject("gun")
                        .set("data", data(app(m)));
            } else {
                c.addObject().put("op", "send").putObject("h2").put("type", "DATA")
                        .set("data", data(app(m)));
            }
        }
        c.addObject().put("op", "expect_deliver").set("data", data(downApp));
        tidy(client);
    }

    /**
     * The frame with its regular headers sorted by name after the pseudo-headers (kept in wire order): HTTP/2 gives
     * their order no meaning and Go clients write them from a map, in a different order on every run.
     */
    private static H2.Frame ordered(H2.Frame f) {
        if (f.headers() == null) {
            return f;
        }
        List<String[]> pseudo = new ArrayList<>();
        List<String[]> regular = new ArrayList<>();
        for (String[] kv : f.headers()) {
            (kv[0].startsWith(":") ? pseudo : regular).add(kv);
        }
        regular.sort(java.util.Comparator.comparing(kv -> kv[0]));
        pseudo.addAll(regular);
        return new H2.Frame(f.type(), f.flags(), f.stream(), f.payload(), pseudo);
    }

    private void expectUpData(ArrayNode c, boolean gun, byte[] upApp) {
        if (gun) {
            c.addObject().put("op", "expect").putObject("gunData").set("data", data(upApp));
        } else {
            c.addObject().put("op", "expect").putObject("h2").put("type", "DATA").set("data", data(upApp));
        }
    }

    private static String describe(List<String[]> headers, String authority) {
        List<String> l = new ArrayList<>();
        for (String[] kv : headers) {
            if (kv[0].startsWith(":") || kv[0].equals("content-type") || kv[0].equals("te")) {
                l.add(kv[0] + " " + (kv[1].equals(authority) ? "${server.authority}" : kv[1]));
            }
        }
        return String.join(", ", l);
    }

    private static ObjectNode settings(H2.Frame f) {
        ObjectNode h = F.objectNode().put("type", "SETTINGS");
        ObjectNode st = h.putObject("settings");
        String[] names = {null, "HEADER_TABLE_SIZE", "ENABLE_PUSH", "MAX_CONCURRENT_STREAMS", "INITIAL_WINDOW_SIZE",
            "MAX_FRAME_SIZE", "MAX_HEADER_LIST_SIZE"};
        byte[] p = f.payload();
        for (int i = 0; i + 6 <= p.length; i += 6) {
            int id = (p[i] & 0xFF) << 8 | (p[i + 1] & 0xFF);
            long v = int32(p, i + 2) & 0xFFFFFFFFL;
            if (id > 0 && id < names.length) {
                st.put(names[id], v);
            }
        }
        return h;
    }

    /**
     * The stream-1 data of the frames: for gun the messages' data (each message into {@code msgs}), else the DATA
     * payloads (each frame into {@code msgs}).
     */
    private static byte[] streamData(List<H2.Frame> frames, boolean gun, List<byte[]> msgs) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        for (H2.Frame f : frames) {
            if (f.type() != 0 || f.stream() == 0) {
                continue;
            }
            if (!gun) {
                if (f.payload().length > 0) {
                    msgs.add(f.payload());
                    all.writeBytes(f.payload());
                }
                continue;
            }
            buf.writeBytes(f.payload());
            byte[] b = buf.toByteArray();
            int off = 0;
            while (b.length - off >= 5) {
                int n = int32(b, off + 1);
                if (b.length - off < 5 + n) {
                    break;
                }
                if (b[off] != 0) {
                    throw new IllegalStateException("compressed gun message");
                }
                byte[] m = Gun.payload(Arrays.copyOfRange(b, off + 5, off + 5 + n));
                msgs.add(m);
                all.writeBytes(m);
                off += 5 + n;
            }
            buf.reset();
            buf.write(b, off, b.length - off);
        }
        if (buf.size() > 0) {
            throw new IllegalStateException("incomplete gun message at the end of the capture");
        }
        return all.toByteArray();
    }

    /** The time of the read that brought the byte at {@code offset}. */
    private static long timeOf(List<long[]> chunks, long offset) {
        long t = Long.MAX_VALUE;
        for (long[] c : chunks) {
            if (c[0] <= offset) {
                t = c[1];
            }
        }
        return t;
    }

    private static List<H2.Frame> h2Frames(byte[] b, List<Integer> offsets) {
        H2 codec = new H2();
        List<H2.Frame> out = new ArrayList<>();
        int off = 0;
        try {
            while (off < b.length) {
                Object[] r = codec.decode(Arrays.copyOfRange(b, off, b.length));
                if (r == null) {
                    throw new IllegalStateException("incomplete HTTP/2 frame at the end of the capture");
                }
                out.add((H2.Frame) r[0]);
                offsets.add(off);
                off += (int) r[1];
            }
        } catch (io.netty.handler.codec.http2.Http2Exception e) {
            throw new IllegalStateException("HPACK: " + e.getMessage(), e);
        }
        return out;
    }

    private static int int32(byte[] b, int off) {
        return (b[off] & 0xFF) << 24 | (b[off + 1] & 0xFF) << 16 | (b[off + 2] & 0xFF) << 8 | (b[off + 3] & 0xFF);
    }

    // ---------------------------------------------------------------- PHT

    /** One PHT event: a request, a response head, or one line of a pull response. */
    private record PhtEvent(long time, int conn, Http1.Message head, byte[] body, byte[] line) {
        boolean request() {
            return head != null && head.method() != null;
        }
    }

    private void pht(ObjectNode server, ObjectNode client) {
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
                        hl.addArray().add(kv[0]).add(kv[1].equals(authority) ? "${server.authority}" : kv[1]);
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
                        shl.addArray().add(kv[0]).add(kv[1]);
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

    // ---------------------------------------------------------------- proxy protocols

    /** One exchange: consecutive reads of one direction. */
    private record Turn(boolean up, byte[] bytes) {
    }

    private void raw(ObjectNode server, ObjectNode client) {
        List<Turn> turns = new ArrayList<>();
        for (Transcript.Entry e : rec.entries()) {
            if (e.data() == null) {
                continue;
            }
            boolean u = e.dir() == Transcript.Dir.TO_SERVER;
            if (!turns.isEmpty() && turns.get(turns.size() - 1).up() == u) {
                Turn t = turns.remove(turns.size() - 1);
                turns.add(new Turn(u, concat(t.bytes(), e.data())));
            } else {
                turns.add(new Turn(u, e.data()));
            }
        }
        if (!endsWith(up, Recording.UP) || !endsWith(down, Recording.DOWN)) {
            throw new IllegalStateException("the capture does not end with the application's exchange");
        }
        int lastUp = -1;
        int lastDown = -1;
        for (int i = 0; i < turns.size(); i++) {
            if (turns.get(i).up()) {
                lastUp = i;
            } else {
                lastDown = i;
            }
        }
        if (lastDown < lastUp) {
            throw new IllegalStateException("the server's answer came before the client's payload");
        }
        boolean socks = pair.transport().equals("socks5");

        // ---- server role: destination = the engine's application
        ArrayNode s = steps(server);
        for (int i = 0; i < turns.size(); i++) {
            Turn t = turns.get(i);
            if (t.up()) {
                int head = httpHead(t.bytes());
                if (head > 0) {
                    s.add(sendHttp(t.bytes(), head, true));
                    if (head < t.bytes().length) {
                        s.addObject().put("op", "send").set("bytes",
                                appPlaceholders(Arrays.copyOfRange(t.bytes(), head, t.bytes().length)));
                    }
                } else {
                    s.addObject().put("op", "send").set("bytes", appPlaceholders(t.bytes()));
                }
                if (i == lastUp) {
                    s.addObject().put("op", "expect_deliver").put("data", "hello");
                }
            } else {
                if (i == lastDown) {
                    s.addObject().put("op", "app_write").put("data", "world");
                }
                int head = httpHead(t.bytes());
                if (head > 0) {
                    Http1.Message m = Http1.parseHead(Arrays.copyOf(t.bytes(), head - 4));
                    ObjectNode e = s.addObject().put("op", "expect");
                    e.putObject("http").put("status", m.status()).put("bodyIsStream", true);
                    e.put("note", "The " + pair.serverPeer() + " server answered " + m.startLine() + " (its other "
                            + "headers, e.g. Proxy-Agent, name the implementation and are not compared).");
                    if (head < t.bytes().length) {
                        s.addObject().put("op", "expect").set("bytes",
                                appPlaceholders(Arrays.copyOfRange(t.bytes(), head, t.bytes().length)));
                    }
                    continue;
                }
                ObjectNode e = s.addObject().put("op", "expect");
                if (socks && isSocksReply(t.bytes())) {
                    String hex = HexFormat.of().formatHex(t.bytes(), 0, 4) + " ???????? ????"
                            + HexFormat.of().formatHex(t.bytes(), 10, t.bytes().length);
                    e.put("hexPattern", hex.strip());
                    e.put("note", "SOCKS5 success reply; the bound address (the server's source address) is not "
                            + "compared.");
                } else {
                    e.set("bytes", appPlaceholders(t.bytes()));
                }
            }
        }
        tidy(server);

        // ---- client role: the application asks for a fixed destination
        ArrayNode c = steps(client);
        Turn helloTurn = turns.get(lastUp);
        boolean glued = helloTurn.bytes().length > Recording.UP.length;
        ObjectNode open = c.addObject().put("op", "app_open").put("destination", FIXED_HOST + ":" + FIXED_PORT);
        if (glued) {
            open.put("data", "hello");
            open.put("note", "Recorded: the " + pair.clientPeer() + " client sent its request together with the "
                    + "first payload.");
        }
        for (int i = 0; i < turns.size(); i++) {
            Turn t = turns.get(i);
            if (t.up()) {
                if (i == lastUp && !glued) {
                    c.addObject().put("op", "expect_open");
                    c.addObject().put("op", "app_write").put("data", "hello");
                }
                byte[] b = fixedAddress(t.bytes());
                int head = httpHead(b);
                if (head > 0) {
                    Http1.Message m = Http1.parseHead(Arrays.copyOf(b, head - 4));
                    ObjectNode e = c.addObject().put("op", "expect");
                    ObjectNode h = e.putObject("http").put("method", m.method()).put("target", m.target());
                    ObjectNode hh = h.putObject("headers");
                    for (String[] kv : m.headers()) {
                        if (kv[0].equalsIgnoreCase("Host") || kv[0].equalsIgnoreCase("Proxy-Authorization")) {
                            hh.put(kv[0], kv[1]);
                        }
                    }
                    h.put("bodyIsStream", true);
                    e.put("note", "The " + pair.clientPeer() + " client's request: " + m.startLine() + " with "
                            + String.join(", ", names(hh)) + " (User-Agent and the like are not compared).");
                    if (head < b.length) {
                        c.addObject().put("op", "expect").set("bytes", data(Arrays.copyOfRange(b, head, b.length)));
                    }
                } else if (socks && i == 0 && b.length > 3 && b[0] == 5 && b.length == 2 + b[1]
                        && turns.size() > 1 && turns.get(1).bytes().length == 2) {
                    // a SOCKS5 greeting: the methods offered are a set; offering only the one the server chose
                    // is as good
                    ArrayNode alts = c.addObject().put("op", "expect").put("note", "The " + pair.clientPeer()
                            + " client offered these methods; offering only the method the server chose (0x"
                            + String.format("%02x", turns.get(1).bytes()[1]) + ") is equivalent.")
                            .putArray("bytesOneOf");
                    alts.add(data(b));
                    alts.add(data(new byte[] {5, 1, turns.get(1).bytes()[1]}));
                } else {
                    c.addObject().put("op", "expect").set("bytes", data(b));
                }
            } else {
                byte[] b = t.bytes();
                if (socks && isSocksReply(b)) {
                    vars(client).putObject("bound").put("encode", "hex").putObject("of").put("random", 2);
                    String hex = HexFormat.of().formatHex(b, 0, 8) + "${bound}"
                            + HexFormat.of().formatHex(b, 10, b.length);
                    c.addObject().put("op", "send").put("note", "The recorded reply; its bound port was the "
                            + "server's ephemeral source port, here a random one.").putObject("bytes")
                            .put("hex", hex);
                } else if (httpHead(b) > 0) {
                    int head = httpHead(b);
                    c.add(sendHttp(b, head, false));
                    if (head < b.length) {
                        c.addObject().put("op", "send").set("bytes", data(Arrays.copyOfRange(b, head, b.length)));
                    }
                } else {
                    c.addObject().put("op", "send").set("bytes", data(b));
                }
                if (i == lastDown) {
                    c.addObject().put("op", "expect_deliver").put("data", "world");
                }
            }
        }
        tidy(client);
    }

    /** The end of an HTTP/1 head at the start of {@code b} (HTTP CONNECT), or -1. */
    private int httpHead(byte[] b) {
        if (!pair.transport().equals("http_connect")) {
            return -1;
        }
        return headEnd(b, 0);
    }

    /** A {@code send http} step with the recorded head: header order and spelling kept, Date left out. */
    private ObjectNode sendHttp(byte[] b, int head, boolean placeholders) {
        Http1.Message m = Http1.parseHead(Arrays.copyOf(b, head - 4));
        String app = "127.0.0.1:" + rec.appPort();
        ObjectNode o = F.objectNode().put("op", "send");
        ObjectNode h = o.putObject("http");
        if (m.method() != null) {
            h.put("method", m.method()).put("target", m.target().replace(app, placeholders ? "${app.authority}"
                    : FIXED_HOST + ":" + FIXED_PORT));
        } else {
            h.put("status", m.status()).put("reason", m.reason());
        }
        h.put("version", m.version());
        ArrayNode l = h.putArray("headers");
        for (String[] kv : m.headers()) {
            if (!kv[0].equalsIgnoreCase("Date")) {
                l.addArray().add(kv[0]).add(kv[1].replace(app, placeholders ? "${app.authority}"
                        : FIXED_HOST + ":" + FIXED_PORT));
            }
        }
        o.put("note", "The recorded " + (m.method() != null ? pair.clientPeer() + " client's request"
                : pair.serverPeer() + " server's response") + ", header order and spelling kept.");
        return o;
    }

    private static boolean isSocksReply(byte[] b) {
        return b.length >= 10 && b[0] == 5 && b[1] == 0 && b[2] == 0 && b[3] == 1;
    }

    /** The application's address as the engine's placeholders (server-role proxy fixtures). */
    private JsonNode appPlaceholders(byte[] b) {
        String port = String.format("%04x", rec.appPort());
        if (printable(b)) {
            return F.textNode(new String(b, StandardCharsets.ISO_8859_1)
                    .replace("127.0.0.1:" + rec.appPort(), "${app.authority}"));
        }
        String hex = HexFormat.of().formatHex(b);
        hex = replaceAligned(hex, "7f000001" + port, "${app.ip.hex}${app.port.hex}");
        hex = replaceAligned(hex, port + "017f000001", "${app.port.hex}01${app.ip.hex}");
        return F.objectNode().put("hex", hex);
    }

    private static String replaceAligned(String hex, String find, String with) {
        StringBuilder sb = new StringBuilder();
        int from = 0;
        while (true) {
            int i = hex.indexOf(find, from);
            while (i >= 0 && i % 2 != 0) {
                i = hex.indexOf(find, i + 1);
            }
            if (i < 0) {
                sb.append(hex, from, hex.length());
                return sb.toString();
            }
            sb.append(hex, from, i).append(with);
            from = i + find.length();
        }
    }

    // ---------------------------------------------------------------- bytes

    /** Application bytes: the application's port, wherever it appears in an address, becomes the fixed port. */
    private byte[] app(byte[] b) {
        return fixedAddress(b);
    }

    private byte[] fixedAddress(byte[] b) {
        byte[] out = b.clone();
        int p = rec.appPort();
        byte hi = (byte) (p >>> 8);
        byte lo = (byte) p;
        for (int i = 0; i + 6 <= out.length; i++) {
            // IPv4 127.0.0.1 then the port (SOCKS5, relay)
            if (out[i] == 127 && out[i + 1] == 0 && out[i + 2] == 0 && out[i + 3] == 1 && out[i + 4] == hi
                    && out[i + 5] == lo) {
                out[i + 4] = (byte) (FIXED_PORT >>> 8);
                out[i + 5] = (byte) FIXED_PORT;
            }
            // the port, then address type 1 and 127.0.0.1 (VLESS)
            if (i + 7 <= out.length && out[i] == hi && out[i + 1] == lo && out[i + 2] == 1 && out[i + 3] == 127
                    && out[i + 4] == 0 && out[i + 5] == 0 && out[i + 6] == 1) {
                out[i] = (byte) (FIXED_PORT >>> 8);
                out[i + 1] = (byte) FIXED_PORT;
            }
        }
        if (printable(out)) {
            String s = new String(out, StandardCharsets.ISO_8859_1);
            String t = s.replace("127.0.0.1:" + p, FIXED_HOST + ":" + FIXED_PORT);
            if (!t.equals(s)) {
                return t.getBytes(StandardCharsets.ISO_8859_1);
            }
        }
        return out;
    }

    private void checkPayloads(byte[] upApp, byte[] downApp) {
        if (!endsWith(upApp, Recording.UP) || !endsWith(downApp, Recording.DOWN)) {
            throw new IllegalStateException("the tunnel did not carry the application's exchange: up "
                    + HexFormat.of().formatHex(upApp) + ", down " + HexFormat.of().formatHex(downApp));
        }
    }

    /** A data value: text when the bytes are printable ASCII, hex otherwise. */
    static JsonNode data(byte[] b) {
        if (printable(b)) {
            return F.textNode(new String(b, StandardCharsets.ISO_8859_1));
        }
        return F.objectNode().put("hex", HexFormat.of().formatHex(b));
    }

    private static boolean printable(byte[] b) {
        String s = new String(b, StandardCharsets.ISO_8859_1);
        if (s.contains("${")) {
            return false;
        }
        for (byte x : b) {
            int c = x & 0xFF;
            if ((c < 0x20 || c > 0x7E) && c != '\r' && c != '\n') {
                return false;
            }
        }
        return true;
    }

    private static boolean endsWith(byte[] b, byte[] suffix) {
        return b.length >= suffix.length
                && Arrays.equals(b, b.length - suffix.length, b.length, suffix, 0, suffix.length);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
