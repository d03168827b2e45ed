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
abstract sealed class FixtureNormaliser
        permits UpgradeNormaliser, H2Normaliser, PhtNormaliser, ProxyNormaliser {

    static final String FIXED_HOST = "127.0.0.1";
    static final int FIXED_PORT = 9000;
    static final String RECORDER = "interop-docker FixtureRecorder (RecordedFixturesIT)";

    final RecordedPair pair;
    final Recording rec;
    final byte[] up;
    final byte[] down;
    /** Time of the first byte from the server: client bytes read before it were sent without waiting. */
    final long firstDown;
    final List<long[]> upChunks = new ArrayList<>();
    final List<long[]> downChunks = new ArrayList<>();

    /** The two fixtures of a pair. */
    record Fixtures(ObjectNode server, ObjectNode client) {
    }

    FixtureNormaliser(RecordedPair pair, Recording rec) {
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
        FixtureNormaliser n = switch (pair.syntax()) {
            case WS, HTTPUPGRADE, HTTP1 -> new UpgradeNormaliser(pair, rec);
            case GRPC, H2 -> new H2Normaliser(pair, rec);
            case PHT -> new PhtNormaliser(pair, rec);
            case RAW -> new ProxyNormaliser(pair, rec);
        };
        ObjectNode server = n.skeleton("server");
        ObjectNode client = n.skeleton("client");
        n.fill(server, client);
        return new Fixtures(server, client);
    }

    /** Adds the steps (and vars) of both fixtures. */
    abstract void fill(ObjectNode server, ObjectNode client);

    // ---------------------------------------------------------------- skeleton

    ObjectNode skeleton(String role) {
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

    static ArrayNode steps(ObjectNode f) {
        return (ArrayNode) f.get("steps");
    }

    static ObjectNode vars(ObjectNode f) {
        return (ObjectNode) f.get("vars");
    }

    /** Removes an empty {@code vars}. */
    static void tidy(ObjectNode f) {
        if (f.get("vars").isEmpty()) {
            f.remove("vars");
        }
    }

    static List<String> names(ObjectNode o) {
        List<String> n = new ArrayList<>();
        o.fieldNames().forEachRemaining(n::add);
        return n;
    }

    static int headEnd(byte[] b, int from) {
        for (int i = from; i + 3 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return i + 4;
            }
        }
        return -1;
    }

    /** The time of the read that brought the byte at {@code offset}. */
    static long timeOf(List<long[]> chunks, long offset) {
        long t = Long.MAX_VALUE;
        for (long[] c : chunks) {
            if (c[0] <= offset) {
                t = c[1];
            }
        }
        return t;
    }

    /** The application's address as the engine's placeholders (server-role proxy fixtures). */
    JsonNode appPlaceholders(byte[] b) {
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

    static String replaceAligned(String hex, String find, String with) {
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
    byte[] app(byte[] b) {
        return fixedAddress(b);
    }

    byte[] fixedAddress(byte[] b) {
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

    void checkPayloads(byte[] upApp, byte[] downApp) {
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

    static boolean printable(byte[] b) {
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

    static boolean endsWith(byte[] b, byte[] suffix) {
        return b.length >= suffix.length
                && Arrays.equals(b, b.length - suffix.length, b.length, suffix, 0, suffix.length);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
