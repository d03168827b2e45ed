package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.conformance.Gun;
import dev.tunnelwire.conformance.H2;
import dev.tunnelwire.interop.RecordedPair.Syntax;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.tunnelwire.interop.Role.F;

/**
 * Normalises the HTTP/2 (h2c) transports: gun (gRPC) messages or GOST's h2c tunnel DATA on one stream, with the
 * HEADERS decoded into lists, the SETTINGS and WINDOW_UPDATE replayed, and the client's wait for the response kept.
 */
final class H2Normaliser extends FixtureNormaliser {

    H2Normaliser(RecordedPair pair, Recording rec) {
        super(pair, rec);
    }

    // ---------------------------------------------------------------- HTTP/2

    @Override
    void fill(ObjectNode server, ObjectNode client) {
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
                    l.addArray().add(kv[0]).add(kv[1].equals(authority) ? F.textNode("${server.authority}")
                            : PeerVaryingValues.headerValue(kv[0], kv[1]));
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
                rsl.addArray().add(kv[0]).add(PeerVaryingValues.headerValue(kv[0], kv[1]));
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
}
