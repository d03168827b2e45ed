package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/2 frames (RFC 9113 section 4.1) as the engine writes and reads them, with one HPACK encoder and decoder per
 * connection (Netty's), and the gun message reassembly of each stream's DATA.
 */
public final class H2 {

    public static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    static final String[] TYPES = {"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING",
        "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"};
    static final String[] ERRORS = {"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
        "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};
    static final Map<String, Integer> SETTINGS = Map.of("HEADER_TABLE_SIZE", 1, "ENABLE_PUSH", 2,
            "MAX_CONCURRENT_STREAMS", 3, "INITIAL_WINDOW_SIZE", 4, "MAX_FRAME_SIZE", 5, "MAX_HEADER_LIST_SIZE", 6);

    /** One frame as read; {@code headers} is set for HEADERS (decoded, in wire order). */
    public record Frame(int type, int flags, int stream, byte[] payload, List<String[]> headers) {
        public boolean endStream() {
            return (type == 0 || type == 1) && (flags & 1) != 0;
        }

        public boolean ack() {
            return (type == 4 || type == 6) && (flags & 1) != 0;
        }

        int errorCode() {
            int off = type == 7 ? 4 : 0;
            if (payload.length < off + 4) {
                return -1;
            }
            return (payload[off] & 0xFF) << 24 | (payload[off + 1] & 0xFF) << 16 | (payload[off + 2] & 0xFF) << 8
                    | (payload[off + 3] & 0xFF);
        }

        String describe() {
            StringBuilder sb = new StringBuilder(type < TYPES.length ? TYPES[type] : "type" + type)
                    .append(" stream=").append(stream).append(" flags=0x").append(Integer.toHexString(flags));
            if (endStream()) {
                sb.append(" END_STREAM");
            }
            if (ack()) {
                sb.append(" ACK");
            }
            if (headers != null) {
                for (String[] h : headers) {
                    sb.append(' ').append(h[0]).append('=').append(h[1]);
                }
            } else if (type == 3 || type == 7) {
                int e = errorCode();
                sb.append(" error=").append(e >= 0 && e < ERRORS.length ? ERRORS[e] : String.valueOf(e));
            } else if (payload.length > 0) {
                sb.append(" payload(").append(payload.length).append(")=")
                        .append(HexFormat.of().formatHex(payload, 0, Math.min(payload.length, 64)))
                        .append(payload.length > 64 ? "..." : "");
            }
            return sb.toString();
        }
    }

    private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
    private final Map<Integer, ByteArrayOutputStream> gun = new HashMap<>();

    static int type(String name) {
        for (int i = 0; i < TYPES.length; i++) {
            if (TYPES[i].equalsIgnoreCase(name)) {
                return i;
            }
        }
        throw new FixtureError("unknown HTTP/2 frame type " + name);
    }

    static int errorCode(JsonNode n) {
        if (n.isInt()) {
            return n.asInt();
        }
        for (int i = 0; i < ERRORS.length; i++) {
            if (ERRORS[i].equalsIgnoreCase(n.asText())) {
                return i;
            }
        }
        throw new FixtureError("unknown HTTP/2 error code " + n);
    }

    /** Encodes a fixture's {@code h2} object (or the connection preface). */
    byte[] encode(JsonNode f, Values v) {
        if (f.path("preface").asBoolean(false)) {
            return PREFACE.clone();
        }
        String typeName = f.path("type").asText();
        int stream = f.path("stream").asInt(0);
        int flags = f.path("flags").asInt(0);
        byte[] payload;
        int type;
        if (typeName.equalsIgnoreCase("raw")) {
            type = f.path("frameType").asInt();
            payload = v.bytes(f.get("payload"));
        } else {
            type = type(typeName);
            switch (type) {
                case 0 -> {
                    payload = v.bytes(f.get("data"));
                    flags |= f.path("endStream").asBoolean(false) ? 1 : 0;
                }
                case 1 -> {
                    payload = hpack(Http1.headerList(f.get("headers"), v), stream);
                    flags |= 4 | (f.path("endStream").asBoolean(false) ? 1 : 0);
                }
                case 3 -> payload = int32(errorCode(f.path("errorCode")));
                case 4 -> {
                    ByteArrayOutputStream o = new ByteArrayOutputStream();
                    f.path("settings").fields().forEachRemaining(e -> {
                        Integer id = SETTINGS.get(e.getKey().toUpperCase(Locale.ROOT));
                        if (id == null) {
                            throw new FixtureError("unknown HTTP/2 setting " + e.getKey());
                        }
                        o.write(id >>> 8);
                        o.write(id);
                        o.writeBytes(int32(e.getValue().asInt()));
                    });
                    payload = o.toByteArray();
                    flags |= f.path("ack").asBoolean(false) ? 1 : 0;
                }
                case 6 -> {
                    payload = f.has("data") ? v.bytes(f.get("data")) : new byte[8];
                    flags |= f.path("ack").asBoolean(false) ? 1 : 0;
                }
                case 7 -> payload = PeerSocket.concat(int32(f.path("lastStream").asInt(0)),
                        int32(errorCode(f.path("errorCode"))));
                case 8 -> payload = int32(f.path("increment").asInt());
                default -> payload = v.bytes(f.get("payload"));
            }
        }
        return frame(type, flags, stream, payload);
    }

    public static byte[] frame(int type, int flags, int stream, byte[] payload) {
        byte[] out = new byte[9 + payload.length];
        out[0] = (byte) (payload.length >>> 16);
        out[1] = (byte) (payload.length >>> 8);
        out[2] = (byte) payload.length;
        out[3] = (byte) type;
        out[4] = (byte) flags;
        out[5] = (byte) (stream >>> 24 & 0x7F);
        out[6] = (byte) (stream >>> 16);
        out[7] = (byte) (stream >>> 8);
        out[8] = (byte) stream;
        System.arraycopy(payload, 0, out, 9, payload.length);
        return out;
    }

    static byte[] int32(int x) {
        return new byte[] {(byte) (x >>> 24), (byte) (x >>> 16), (byte) (x >>> 8), (byte) x};
    }

    private byte[] hpack(List<String[]> headers, int stream) {
        Http2Headers h = new DefaultHttp2Headers(false);
        for (String[] kv : headers) {
            h.add(kv[0], kv[1]);
        }
        ByteBuf buf = Unpooled.buffer();
        try {
            encoder.encodeHeaders(stream, h, buf);
            return ByteBufUtil.getBytes(buf);
        } catch (Http2Exception e) {
            throw new FixtureError("cannot HPACK-encode " + h + ": " + e.getMessage());
        } finally {
            buf.release();
        }
    }

    /** Decodes one frame from the start of {@code b} ({@code null} if incomplete); [frame, size]. */
    public Object[] decode(byte[] b) throws Http2Exception {
        if (b.length < 9) {
            return null;
        }
        int len = (b[0] & 0xFF) << 16 | (b[1] & 0xFF) << 8 | (b[2] & 0xFF);
        if (b.length < 9 + len) {
            return null;
        }
        int type = b[3] & 0xFF;
        int flags = b[4] & 0xFF;
        int stream = (b[5] & 0x7F) << 24 | (b[6] & 0xFF) << 16 | (b[7] & 0xFF) << 8 | (b[8] & 0xFF);
        byte[] payload = java.util.Arrays.copyOfRange(b, 9, 9 + len);
        List<String[]> headers = null;
        if (type == 1) {
            int off = 0;
            int end = payload.length;
            if ((flags & 0x08) != 0) {
                int pad = payload[0] & 0xFF;
                off = 1;
                end -= pad;
            }
            if ((flags & 0x20) != 0) {
                off += 5;
            }
            ByteBuf block = Unpooled.wrappedBuffer(payload, off, end - off);
            try {
                Http2Headers h = decoder.decodeHeaders(stream, block);
                headers = new ArrayList<>();
                for (Map.Entry<CharSequence, CharSequence> e : h) {
                    headers.add(new String[] {e.getKey().toString(), e.getValue().toString()});
                }
            } finally {
                block.release();
            }
        } else if (type == 0 && (flags & 0x08) != 0 && payload.length > 0) {
            int pad = payload[0] & 0xFF;
            payload = java.util.Arrays.copyOfRange(payload, 1, Math.max(1, payload.length - pad));
        }
        return new Object[] {new Frame(type, flags, stream, payload, headers), 9 + len};
    }

    /** Appends a DATA payload to the stream's gun buffer. */
    void gunAppend(int stream, byte[] data) {
        gun.computeIfAbsent(stream, s -> new ByteArrayOutputStream()).writeBytes(data);
    }

    /** Takes one complete gun message (without its 5-byte prefix) from the stream's buffer, or {@code null}. */
    byte[] gunTake(int stream) {
        ByteArrayOutputStream o = gun.get(stream);
        if (o == null || o.size() < 5) {
            return null;
        }
        byte[] b = o.toByteArray();
        long n = (b[1] & 0xFFL) << 24 | (b[2] & 0xFF) << 16 | (b[3] & 0xFF) << 8 | (b[4] & 0xFF);
        if (b.length < 5 + n) {
            return null;
        }
        o.reset();
        o.write(b, 5 + (int) n, b.length - 5 - (int) n);
        if (b[0] != 0) {
            throw new IllegalArgumentException("compressed gun message (flag " + b[0] + ")");
        }
        return java.util.Arrays.copyOfRange(b, 5, 5 + (int) n);
    }

    int gunBuffered(int stream) {
        ByteArrayOutputStream o = gun.get(stream);
        return o == null ? 0 : o.size();
    }
}
