package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.TransportOptions;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Options of the {@code httpupgrade} transport (V2Ray "HTTPUpgrade" as Xray and sing-box implement it): one HTTP/1.1
 * {@code GET} with {@code Connection: Upgrade} and {@code Upgrade: websocket}, answered by
 * {@code 101 Switching Protocols}; after that the connection carries raw bytes in both directions, with no framing.
 *
 * <p><b>Client.</b> The request head is {@code GET <path> HTTP/1.1}, {@code Host}, {@code User-Agent}, then every
 * other header sorted by the raw bytes of its name (uppercase before lowercase), as Go's {@code http.Request.Write}
 * orders them, so the default request is byte-for-byte what a sing-box client sends. Configured header names keep
 * their exact spelling. No {@code Sec-WebSocket-*} header is ever sent.
 *
 * <p><b>Server.</b> Validates the request in sing-box's order (host 400, path 404, method {@code GET} 404,
 * {@code Connection} 404, {@code Upgrade} 404, {@code Sec-WebSocket-Key} absent 404), answers
 * {@code HTTP/1.1 101 Switching Protocols}, {@code Connection: Upgrade}, {@code Upgrade: websocket} and keeps every
 * byte the client pipelined behind its request head as tunnel data.
 *
 * @param path                the request path; a leading {@code /} is added, empty means {@code /} (default
 *                            {@value #DEFAULT_PATH}). An {@code ed=N} query parameter is removed from it, as Xray's
 *                            config parser does, and a non-zero N selects {@link EarlyData#XRAY_ED} unless another
 *                            mode was chosen explicitly. The server compares the percent-decoded path exactly
 *                            (query ignored, a trailing slash matters).
 * @param host                client: the {@code Host} header (default {@code null}: the TLS server name, else the
 *                            server's host, never with a port, like Xray); server: if set, the request's host must
 *                            equal it, case-insensitively and ignoring a {@code :port} (else 400)
 * @param headers             client only: extra request headers, names sent with exactly the given spelling. A
 *                            {@code User-Agent} entry (any case) replaces {@link #userAgent}. {@code Host},
 *                            {@code Connection}, {@code Upgrade} and {@code Sec-WebSocket-*} names are rejected.
 *                            Never {@code null}; iteration order is the given order.
 * @param userAgent           client: the {@code User-Agent} value (default {@value #DEFAULT_USER_AGENT}, what
 *                            sing-box sends); empty means no {@code User-Agent} line
 * @param earlyData           client: how the dialer's first payload travels (default {@link EarlyData#NONE});
 *                            server: {@link EarlyData#V2FLY_HEADER} makes it decode that header
 * @param earlyDataHeader     the header of {@link EarlyData#V2FLY_HEADER} (required by that mode, else ignored)
 * @param maxEarlyData        {@link EarlyData#V2FLY_HEADER}: at most this many payload bytes go into the header, the
 *                            rest follows the 101 as ordinary data (default {@value #DEFAULT_MAX_EARLY_DATA})
 * @param rejectMode          server: how a request that fails validation is answered (default
 *                            {@link RejectMode#STATUS}); ignored for requests handed to the {@link #fallback}
 * @param maxRequestHeadBytes server: the largest request head (request line plus headers, with CRLFs) accepted
 *                            (default {@value #DEFAULT_MAX_REQUEST_HEAD_BYTES}); larger heads are rejected (431)
 * @param handshakeTimeout    client: how long to wait for the 101; server: how long the PROXY header, TLS handshake
 *                            and request head may take together (default
 *                            {@value #DEFAULT_HANDSHAKE_TIMEOUT_SECONDS} s); on expiry the connection is closed
 * @param trustXForwardedFor  server: take the client address from the first element of {@code X-Forwarded-For}
 *                            (port 0) when present (default {@code false}); only enable it behind a proxy you control
 * @param fallback            server: a decoy address (default {@code null}: none). A request that fails validation
 *                            (including a real WebSocket request and bytes that are not HTTP at all) is not answered;
 *                            instead the whole connection, starting with every byte already read, is relayed to this
 *                            address, so that a prober sees the decoy's answer. TLS, if any, is terminated first.
 */
public record HttpUpgradeOptions(String path, String host, Map<String, String> headers, String userAgent,
                                 EarlyData earlyData, String earlyDataHeader, int maxEarlyData,
                                 RejectMode rejectMode, int maxRequestHeadBytes, Duration handshakeTimeout,
                                 boolean trustXForwardedFor, InetSocketAddress fallback) implements TransportOptions {

    public static final String SCHEME = "httpupgrade";
    public static final String DEFAULT_PATH = "/";
    /** What Go's HTTP client (and thus sing-box) sends. */
    public static final String DEFAULT_USER_AGENT = "Go-http-client/1.1";
    public static final int DEFAULT_MAX_EARLY_DATA = 2048;
    public static final int DEFAULT_MAX_REQUEST_HEAD_BYTES = 8 * 1024;
    public static final long DEFAULT_HANDSHAKE_TIMEOUT_SECONDS = 15;

    /**
     * How the dialer's first payload travels.
     *
     * <p><b>Hazard of {@link #XRAY_ED}.</b> Both Xray's and sing-box's servers read the request head through a
     * buffered reader and then hand the raw connection on: bytes that were read together with the head are silently
     * lost. This dialer therefore sends the payload in a write (and, over TLS, a TLS record) of its own, right after
     * the head and without waiting for the 101. Checked against the real peers: an Xray server over TLS (which reads
     * one record at a time) never lost it; an Xray server over cleartext lost it in 1 of 3 runs (the writes were
     * coalesced before the server read them); a sing-box server (which has no early data, and whose HTTP server reads
     * ahead) lost it in every TLS run and in 1 of 3 cleartext runs. Use {@code XRAY_ED} only against Xray servers
     * over TLS, or against tunnelwire servers (which never lose pipelined bytes); otherwise use {@link #NONE}.
     */
    public enum EarlyData {
        /** The payload is sent after the 101, like sing-box. */
        NONE,
        /** Xray's {@code ?ed=N}: the payload follows the request head at once, without waiting for the 101. */
        XRAY_ED,
        /**
         * v2fly's dialect: up to {@code maxEarlyData} bytes, base64 (URL alphabet, padded), in the header named
         * {@code earlyDataHeader}; the rest after the 101. Incompatible with Xray and ignored by sing-box.
         */
        V2FLY_HEADER
    }

    /** How the server answers a request that fails validation. */
    public enum RejectMode {
        /** An HTTP status (400 bad host or malformed request, 404 otherwise, 431 head too large), then close. */
        STATUS,
        /** Close the connection without a response, like Xray. */
        CLOSE
    }

    public HttpUpgradeOptions {
        EarlyData explicitEd = earlyData;
        String p = path == null ? "" : path;
        int q = p.indexOf('?');
        if (q >= 0) {
            StringBuilder kept = new StringBuilder();
            int ed = 0;
            for (String part : p.substring(q + 1).split("&", -1)) {
                if (part.equals("ed") || part.startsWith("ed=")) {
                    ed = parseEd(part.length() > 3 ? part.substring(3) : "");
                } else if (!part.isEmpty()) {
                    kept.append(kept.length() == 0 ? '?' : '&').append(part);
                }
            }
            p = p.substring(0, q) + kept;
            if (ed != 0 && explicitEd == null) {
                explicitEd = EarlyData.XRAY_ED;
            }
        }
        if (!p.startsWith("/")) {
            p = "/" + p;
        }
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                throw new IllegalArgumentException("path must be printable ASCII without spaces: " + path);
            }
        }
        path = p;
        if (host != null) {
            host = host.strip();
            if (host.isEmpty()) {
                host = null;
            } else {
                checkValue("host", host);
            }
        }
        Map<String, String> h = new LinkedHashMap<>();
        if (headers != null) {
            for (Map.Entry<String, String> e : headers.entrySet()) {
                String name = Objects.requireNonNull(e.getKey(), "header name");
                String value = Objects.requireNonNull(e.getValue(), "value of header " + name);
                checkName(name);
                checkValue("header " + name, value);
                String lower = name.toLowerCase(Locale.ROOT);
                if (lower.equals("host") || lower.equals("connection") || lower.equals("upgrade")
                        || lower.startsWith("sec-websocket-")) {
                    throw new IllegalArgumentException("header " + name + " cannot be configured: the transport "
                            + "sets it" + (lower.equals("host") ? " (use host)" : ""));
                }
                for (String prev : h.keySet()) {
                    if (prev.equalsIgnoreCase(name)) {
                        throw new IllegalArgumentException("header " + name + " given twice");
                    }
                }
                h.put(name, value);
            }
        }
        headers = Collections.unmodifiableMap(h);
        userAgent = userAgent == null ? DEFAULT_USER_AGENT : userAgent;
        checkValue("userAgent", userAgent);
        earlyData = explicitEd == null ? EarlyData.NONE : explicitEd;
        if (earlyData == EarlyData.V2FLY_HEADER) {
            if (earlyDataHeader == null || earlyDataHeader.isEmpty()) {
                throw new IllegalArgumentException("earlyDataHeader is required with V2FLY_HEADER early data");
            }
            checkName(earlyDataHeader);
            if (h.keySet().stream().anyMatch(earlyDataHeader::equalsIgnoreCase)) {
                throw new IllegalArgumentException("earlyDataHeader " + earlyDataHeader + " is also a header");
            }
        }
        maxEarlyData = maxEarlyData == 0 ? DEFAULT_MAX_EARLY_DATA : maxEarlyData;
        if (maxEarlyData < 0) {
            throw new IllegalArgumentException("maxEarlyData must be positive: " + maxEarlyData);
        }
        rejectMode = rejectMode == null ? RejectMode.STATUS : rejectMode;
        maxRequestHeadBytes = maxRequestHeadBytes == 0 ? DEFAULT_MAX_REQUEST_HEAD_BYTES : maxRequestHeadBytes;
        if (maxRequestHeadBytes < 64) {
            throw new IllegalArgumentException("maxRequestHeadBytes must be at least 64: " + maxRequestHeadBytes);
        }
        handshakeTimeout = Objects.requireNonNullElse(handshakeTimeout,
                Duration.ofSeconds(DEFAULT_HANDSHAKE_TIMEOUT_SECONDS));
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshakeTimeout must be positive");
        }
    }

    /** Xray parses {@code ed} with {@code Atoi}; a bad number means 0. */
    private static int parseEd(String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static void checkName(String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("empty header name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean token = c > ' ' && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
            if (!token) {
                throw new IllegalArgumentException("invalid header name: " + name);
            }
        }
    }

    private static void checkValue(String what, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == 0 || c > 0xff) {
                throw new IllegalArgumentException(what + " contains a forbidden character");
            }
        }
    }

    public static HttpUpgradeOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().path(path).host(host).headers(headers).userAgent(userAgent).earlyData(earlyData)
                .earlyDataHeader(earlyDataHeader).maxEarlyData(maxEarlyData).rejectMode(rejectMode)
                .maxRequestHeadBytes(maxRequestHeadBytes).handshakeTimeout(handshakeTimeout)
                .trustXForwardedFor(trustXForwardedFor).fallback(fallback);
    }

    /** The configured {@code User-Agent}: a {@code User-Agent} entry of {@link #headers} wins over the option. */
    String effectiveUserAgent() {
        for (Map.Entry<String, String> e : headers.entrySet()) {
            if (AsciiString.contentEqualsIgnoreCase(e.getKey(), HttpHeaderNames.USER_AGENT)) {
                return null;
            }
        }
        return userAgent.isEmpty() ? null : userAgent;
    }

    @Override
    public String transport() {
        return SCHEME;
    }

    public static final class Builder {
        private String path;
        private String host;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private String userAgent;
        private EarlyData earlyData;
        private String earlyDataHeader;
        private int maxEarlyData;
        private RejectMode rejectMode;
        private int maxRequestHeadBytes;
        private Duration handshakeTimeout;
        private boolean trustXForwardedFor;
        private InetSocketAddress fallback;

        public Builder path(String v) {
            path = v;
            return this;
        }

        public Builder host(String v) {
            host = v;
            return this;
        }

        /** Adds one header; the name's spelling is kept. */
        public Builder header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        /** Replaces the headers (in the map's iteration order). */
        public Builder headers(Map<String, String> v) {
            headers.clear();
            if (v != null) {
                headers.putAll(v);
            }
            return this;
        }

        public Builder userAgent(String v) {
            userAgent = v;
            return this;
        }

        public Builder earlyData(EarlyData v) {
            earlyData = v;
            return this;
        }

        public Builder earlyDataHeader(String v) {
            earlyDataHeader = v;
            return this;
        }

        public Builder maxEarlyData(int v) {
            maxEarlyData = v;
            return this;
        }

        public Builder rejectMode(RejectMode v) {
            rejectMode = v;
            return this;
        }

        public Builder maxRequestHeadBytes(int v) {
            maxRequestHeadBytes = v;
            return this;
        }

        public Builder handshakeTimeout(Duration v) {
            handshakeTimeout = v;
            return this;
        }

        public Builder trustXForwardedFor(boolean v) {
            trustXForwardedFor = v;
            return this;
        }

        public Builder fallback(InetSocketAddress v) {
            fallback = v;
            return this;
        }

        public HttpUpgradeOptions build() {
            return new HttpUpgradeOptions(path, host, headers, userAgent, earlyData, earlyDataHeader, maxEarlyData,
                    rejectMode, maxRequestHeadBytes, handshakeTimeout, trustXForwardedFor, fallback);
        }
    }
}
