package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;

/** One RFC 6455 frame, as sent or received by the engine (payload unmasked). */
public record WsFrame(boolean fin, int rsv, int opcode, boolean masked, byte[] maskKey, byte[] payload) {

    private static final SecureRandom RANDOM = new SecureRandom();

    static int opcode(JsonNode n) {
        if (n == null) {
            return 2;
        }
        if (n.isInt()) {
            return n.asInt();
        }
        return switch (n.asText().toLowerCase(Locale.ROOT)) {
            case "continuation" -> 0;
            case "text" -> 1;
            case "binary" -> 2;
            case "close" -> 8;
            case "ping" -> 9;
            case "pong" -> 10;
            default -> throw new FixtureError("unknown WebSocket opcode " + n);
        };
    }

    public static String opName(int op) {
        return switch (op) {
            case 0 -> "continuation";
            case 1 -> "text";
            case 2 -> "binary";
            case 8 -> "close";
            case 9 -> "ping";
            case 10 -> "pong";
            default -> "op" + op;
        };
    }

    /**
     * Encodes the frame of a fixture's {@code ws} object. {@code mask}: {@code true}/{@code false} or a 4-byte hex key;
     * default: masked when {@code engineIsClient}. {@code length} overrides the declared payload length (for
     * malformed-frame cases); {@code closeCode} prefixes a close payload with the code.
     */
    static byte[] encode(JsonNode w, Values v, boolean engineIsClient) {
        boolean fin = w.path("fin").asBoolean(true);
        int rsv = w.path("rsv").asInt(0);
        int op = opcode(w.get("opcode"));
        byte[] payload = v.bytes(w.get("payload"));
        if (w.has("closeCode")) {
            int code = w.get("closeCode").asInt();
            byte[] p = new byte[2 + payload.length];
            p[0] = (byte) (code >>> 8);
            p[1] = (byte) code;
            System.arraycopy(payload, 0, p, 2, payload.length);
            payload = p;
        }
        JsonNode maskNode = w.get("mask");
        byte[] key = null;
        if (maskNode == null ? engineIsClient : !(maskNode.isBoolean() && !maskNode.asBoolean())) {
            if (maskNode != null && maskNode.isTextual()) {
                key = Values.hex(maskNode.asText());
            } else {
                key = new byte[4];
                RANDOM.nextBytes(key);
            }
        }
        long len = w.has("length") ? w.get("length").asLong() : payload.length;
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 14);
        out.write((fin ? 0x80 : 0) | (rsv & 7) << 4 | (op & 0x0F));
        int maskBit = key != null ? 0x80 : 0;
        if (len < 126) {
            out.write(maskBit | (int) len);
        } else if (len < 65536) {
            out.write(maskBit | 126);
            out.write((int) (len >>> 8));
            out.write((int) len);
        } else {
            out.write(maskBit | 127);
            for (int i = 7; i >= 0; i--) {
                out.write((int) (len >>> (8 * i)));
            }
        }
        if (key != null) {
            out.writeBytes(key);
            byte[] masked = payload.clone();
            for (int i = 0; i < masked.length; i++) {
                masked[i] ^= key[i & 3];
            }
            out.writeBytes(masked);
        } else {
            out.writeBytes(payload);
        }
        return out.toByteArray();
    }

    /**
     * Decodes one frame from the start of {@code b}; returns {@code null} if {@code b} holds less than a frame.
     * The second element of the result is the frame's size on the wire.
     */
    public static Object[] decode(byte[] b) {
        if (b.length < 2) {
            return null;
        }
        int b0 = b[0] & 0xFF;
        int b1 = b[1] & 0xFF;
        boolean masked = (b1 & 0x80) != 0;
        long len = b1 & 0x7F;
        int pos = 2;
        if (len == 126) {
            if (b.length < 4) {
                return null;
            }
            len = (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
            pos = 4;
        } else if (len == 127) {
            if (b.length < 10) {
                return null;
            }
            len = 0;
            for (int i = 2; i < 10; i++) {
                len = len << 8 | (b[i] & 0xFF);
            }
            pos = 10;
        }
        byte[] key = null;
        if (masked) {
            if (b.length < pos + 4) {
                return null;
            }
            key = java.util.Arrays.copyOfRange(b, pos, pos + 4);
            pos += 4;
        }
        if (len > Integer.MAX_VALUE - 64 || b.length < pos + len) {
            return null;
        }
        byte[] payload = java.util.Arrays.copyOfRange(b, pos, pos + (int) len);
        if (key != null) {
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= key[i & 3];
            }
        }
        return new Object[] {new WsFrame((b0 & 0x80) != 0, (b0 >>> 4) & 7, b0 & 0x0F, masked, key, payload),
                pos + (int) len};
    }

    int closeCode() {
        return opcode == 8 && payload.length >= 2 ? (payload[0] & 0xFF) << 8 | (payload[1] & 0xFF) : -1;
    }

    String describe() {
        StringBuilder sb = new StringBuilder(opName(opcode)).append(" fin=").append(fin ? 1 : 0);
        if (rsv != 0) {
            sb.append(" rsv=").append(rsv);
        }
        sb.append(masked ? " masked(" + HexFormat.of().formatHex(maskKey) + ")" : " unmasked")
                .append(" len=").append(payload.length);
        if (opcode == 8 && payload.length >= 2) {
            sb.append(" code=").append(closeCode());
        }
        if (payload.length > 0) {
            sb.append(" payload=").append(PeerSocket.printable(java.util.Arrays.copyOf(payload,
                    Math.min(payload.length, 64)))).append(payload.length > 64 ? "..." : "");
        }
        return sb.toString();
    }
}
