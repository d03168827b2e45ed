package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Placeholders and data values of one running case (grammar in {@code fixtures/SCHEMA.md}, "Data values").
 *
 * <p>A data value is a JSON string (UTF-8 text with {@code ${name}} placeholders) or an object with exactly one of:
 * {@code text}, {@code hex}, {@code b64}, {@code var}, {@code random}, {@code concat}, {@code repeat} (+
 * {@code count}), {@code encode} (+ {@code of}), {@code wsAccept}, {@code gun}, {@code multiHunk}, {@code u16},
 * {@code u32}, {@code match} (+ {@code example}). Placeholders hold bytes; in text they are inserted as UTF-8.
 *
 * <p>{@code {"match": regex, "example": text}} is a <em>peer-varying value</em>: something a peer derives from the
 * date, the machine or chance (Xray's browser User-Agent, a gRPC library version). Sent, it is its example; as a
 * matcher it is the regex (see {@link #peerVaryingExample}).
 */
public final class Values {

    static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z0-9_.:-]+)}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, byte[]> vars = new LinkedHashMap<>();

    /** Sets a placeholder. */
    public void put(String name, byte[] value) {
        vars.put(name, value.clone());
    }

    public void put(String name, String value) {
        put(name, value.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] get(String name) {
        byte[] v = vars.get(name);
        if (v == null) {
            throw new FixtureError("placeholder ${" + name + "} is not defined (defined: " + vars.keySet() + ")");
        }
        return v;
    }

    public Map<String, byte[]> all() {
        return vars;
    }

    /** Replaces {@code ${name}} in {@code s}. */
    public String interpolate(String s) {
        Matcher m = PLACEHOLDER.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(new String(get(m.group(1)), StandardCharsets.UTF_8)));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** Evaluates a data value to bytes. */
    public byte[] bytes(JsonNode v) {
        if (v == null || v.isNull()) {
            return new byte[0];
        }
        if (v.isTextual()) {
            return interpolate(v.asText()).getBytes(StandardCharsets.UTF_8);
        }
        if (!v.isObject()) {
            throw new FixtureError("data value must be a string or an object: " + v);
        }
        if (v.has("text")) {
            return interpolate(v.get("text").asText()).getBytes(StandardCharsets.UTF_8);
        }
        if (v.has("hex")) {
            return hex(interpolate(v.get("hex").asText()));
        }
        if (v.has("b64")) {
            return Base64.getDecoder().decode(interpolate(v.get("b64").asText()));
        }
        if (v.has("var")) {
            return get(v.get("var").asText()).clone();
        }
        if (v.has("random")) {
            byte[] b = new byte[v.get("random").asInt()];
            RANDOM.nextBytes(b);
            return b;
        }
        if (v.has("concat")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (JsonNode part : v.get("concat")) {
                out.writeBytes(bytes(part));
            }
            return out.toByteArray();
        }
        if (v.has("repeat")) {
            byte[] unit = bytes(v.get("repeat"));
            int count = v.path("count").asInt(1);
            ByteArrayOutputStream out = new ByteArrayOutputStream(unit.length * count);
            for (int i = 0; i < count; i++) {
                out.writeBytes(unit);
            }
            return out.toByteArray();
        }
        if (v.has("encode")) {
            byte[] of = bytes(v.get("of"));
            String enc = v.get("encode").asText();
            String s = switch (enc) {
                case "base64" -> Base64.getEncoder().encodeToString(of);
                case "base64_raw" -> Base64.getEncoder().withoutPadding().encodeToString(of);
                case "base64url" -> Base64.getUrlEncoder().withoutPadding().encodeToString(of);
                case "base64url_padded" -> Base64.getUrlEncoder().encodeToString(of);
                case "hex" -> HexFormat.of().formatHex(of);
                default -> throw new FixtureError("unknown encoding '" + enc + "'");
            };
            return s.getBytes(StandardCharsets.US_ASCII);
        }
        if (v.has("wsAccept")) {
            return wsAccept(new String(bytes(v.get("wsAccept")), StandardCharsets.US_ASCII))
                    .getBytes(StandardCharsets.US_ASCII);
        }
        if (v.has("gun")) {
            return Gun.frame(Gun.hunk(bytes(v.get("gun"))));
        }
        if (v.has("multiHunk")) {
            ByteArrayOutputStream pb = new ByteArrayOutputStream();
            for (JsonNode part : v.get("multiHunk")) {
                pb.writeBytes(Gun.hunk(bytes(part)));
            }
            return Gun.frame(pb.toByteArray());
        }
        if (v.has("match")) {
            return peerVaryingExample(v).getBytes(StandardCharsets.UTF_8);
        }
        if (v.has("u16")) {
            int x = v.get("u16").asInt();
            return new byte[] {(byte) (x >>> 8), (byte) x};
        }
        if (v.has("u32")) {
            long x = v.get("u32").asLong();
            return new byte[] {(byte) (x >>> 24), (byte) (x >>> 16), (byte) (x >>> 8), (byte) x};
        }
        throw new FixtureError("unknown data value " + v);
    }

    /**
     * The example of a peer-varying value {@code {"match": regex, "example": text}}, placeholders replaced. A fixture
     * whose example does not match its own rule cannot be run as written: {@link FixtureError}.
     */
    String peerVaryingExample(JsonNode v) {
        if (!v.has("example")) {
            throw new FixtureError("a peer-varying value sent by the engine needs an \"example\": " + v);
        }
        String example = interpolate(v.get("example").asText());
        if (!Pattern.compile(interpolate(v.get("match").asText()), Pattern.DOTALL).matcher(example).matches()) {
            throw new FixtureError("the example '" + example + "' does not match its rule /" + v.get("match").asText()
                    + "/");
        }
        return example;
    }

    /** Evaluates a data value to text (UTF-8). */
    public String text(JsonNode v) {
        return new String(bytes(v), StandardCharsets.UTF_8);
    }

    /** Hex digits, whitespace ignored. */
    public static byte[] hex(String s) {
        String clean = s.replaceAll("\\s+", "");
        if ((clean.length() & 1) != 0) {
            throw new FixtureError("odd number of hex digits: " + s);
        }
        return HexFormat.of().parseHex(clean);
    }

    /** RFC 6455 section 4.2.2: base64(SHA-1(key + GUID)). */
    public static String wsAccept(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            return Base64.getEncoder().encodeToString(
                    sha1.digest((key + WS_GUID).getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
