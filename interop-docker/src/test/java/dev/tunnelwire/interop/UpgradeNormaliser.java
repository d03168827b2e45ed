package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.conformance.Http1;
import dev.tunnelwire.conformance.WsFrame;
import dev.tunnelwire.interop.RecordedPair.Syntax;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static dev.tunnelwire.interop.Role.F;

/**
 * Normalises the HTTP/1.1-based transports: WebSocket (the upgrade, then RFC 6455 frames with their masking checked
 * and early data in a header or the path), V2Ray HTTPUpgrade and V2Ray HTTP over HTTP/1.1 (a head, then raw bytes).
 */
final class UpgradeNormaliser extends FixtureNormaliser {

    UpgradeNormaliser(RecordedPair pair, Recording rec) {
        super(pair, rec);
    }

    // ---------------------------------------------------------------- HTTP/1 based

    @Override
    void fill(ObjectNode server, ObjectNode client) {
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
            hl.addArray().add(h[0]).add(PeerVaryingValues.headerValue(h[0], value));
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
                rhl.addArray().add(h[0]).add(PeerVaryingValues.headerValue(h[0], h[1]));
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
}
