package dev.tunnelwire.transport.ws;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;

/**
 * Constants and small pure functions of the WebSocket transport: RFC 6455's accept key, the early-data base64
 * dialects (sing-box: base64url without padding; Xray: tolerant of the standard alphabet and padding), token-list
 * header matching, and the frame-decoder configuration. See /work/shared/specs peer-singbox.md §3, peer-xray.md §3,
 * peer-gost.md §6.
 */
final class WsProtocol {

    /** RFC 6455 §1.3. */
    static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    static final String VERSION = "13";
    /** Longest request line, and longest header block, a listener reads (Go's default is 1 MiB for both together). */
    static final int MAX_REQUEST_HEAD_BYTES = 64 * 1024;
    /** How long a local close waits for its close frame to be written before closing TCP anyway (gorilla: 5 s). */
    static final long CLOSE_FLUSH_TIMEOUT_MILLIS = 5_000;
    /** The normal-closure status code sent when a tunnel is closed locally. */
    static final int NORMAL_CLOSURE = 1000;

    // Header names as Go (and so every peer) writes them; Netty's HttpHeaderNames are lower case.
    static final String H_HOST = "Host";
    static final String H_UPGRADE = "Upgrade";
    static final String H_CONNECTION = "Connection";
    static final String H_KEY = "Sec-WebSocket-Key";
    static final String H_VERSION = "Sec-WebSocket-Version";
    static final String H_ACCEPT = "Sec-WebSocket-Accept";
    static final String H_PROTOCOL = "Sec-WebSocket-Protocol";
    static final String H_USER_AGENT = "User-Agent";

    static final String HTTP_DECODER = "tw-ws-http-decoder";
    static final String HTTP_ENCODER = "tw-ws-http-encoder";
    static final String HANDSHAKE = "tw-ws-handshake";
    static final String FRAME_DECODER = "tw-ws-frame-decoder";
    static final String FRAME_ENCODER = "tw-ws-frame-encoder";
    static final String ADAPTER = "tw-ws-adapter";

    private static final Base64.Encoder RAW_URL = Base64.getUrlEncoder().withoutPadding();

    private WsProtocol() {
    }

    /** {@code base64(sha1(key + GUID))}. */
    static String acceptKey(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] d = sha1.digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required by every JRE", e);
        }
    }

    /** Whether {@code key} is the base64 of 16 bytes, as RFC 6455 §4.2.1 requires. */
    static boolean validKey(String key) {
        if (key == null || key.length() != 24) {
            return false;
        }
        try {
            return Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Base64url without padding of {@code len} bytes of {@code buf} at its reader index (not consumed). */
    static String encodeEarlyData(ByteBuf buf, int len) {
        return RAW_URL.encodeToString(ByteBufUtil.getBytes(buf, buf.readerIndex(), len, false));
    }

    /**
     * Decodes early data in either alphabet, padded or not (Xray maps {@code +/} to {@code -_} and drops {@code =}).
     *
     * @return the bytes, or {@code null} when {@code s} is not base64
     */
    static byte[] decodeEarlyData(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '+') {
                b.append('-');
            } else if (c == '/') {
                b.append('_');
            } else if (c != '=') {
                b.append(c);
            }
        }
        try {
            return Base64.getUrlDecoder().decode(b.toString());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Whether {@code s} is non-empty base64url ({@code A-Z a-z 0-9 - _}), optionally with up to two {@code =}. */
    static boolean isBase64Url(String s) {
        int end = s.length();
        while (end > 0 && s.length() - end < 2 && s.charAt(end - 1) == '=') {
            end--;
        }
        if (end == 0) {
            return false;
        }
        for (int i = 0; i < end; i++) {
            char c = s.charAt(i);
            boolean ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Whether the comma-separated header value contains {@code token}, case-insensitively (RFC 7230 token list). */
    static boolean hasToken(String headerValue, String token) {
        if (headerValue == null) {
            return false;
        }
        for (String t : headerValue.split(",")) {
            if (t.trim().toLowerCase(Locale.ROOT).equals(token)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Frame decoder settings: no extensions, limit from the options. A server requires masked client frames and
     * closes with 1002 otherwise (RFC 6455 section 5.1, as Xray and gost do; sing-box is lenient here); a client
     * tolerates masked server frames (no peer sends them, and refusing them helps nobody).
     */
    static WebSocketDecoderConfig decoderConfig(WsOptions o, boolean server) {
        return WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(server)
                .allowMaskMismatch(!server)
                .allowExtensions(false)
                .maxFramePayloadLength(o.maxFramePayload() == 0 ? Integer.MAX_VALUE : o.maxFramePayload())
                .closeOnProtocolViolation(true)
                .withUTF8Validator(false)
                .build();
    }
}
