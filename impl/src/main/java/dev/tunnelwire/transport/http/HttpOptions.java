package dev.tunnelwire.transport.http;

import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.internal.h2.H2Settings;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Options of the V2Ray HTTP transport ({@code v2rayhttp}; sing-box's {@code http}, v2fly's {@code h2}).
 *
 * <p><b>Client.</b> Without TLS (and without {@link #h2cPriorKnowledge}) the tunnel is one TCP connection that starts
 * with a hand-written HTTP/1.1 request head, sent together with the tunnel's first payload; the response head
 * ({@code 200} required) is read before the first tunnel byte. With TLS every tunnel is a stream of one pooled HTTP/2
 * connection (ALPN {@code h2}); {@link #h2cPriorKnowledge} does the same over cleartext.
 *
 * <p><b>Server.</b> One port serves HTTP/1.1 (the connection becomes the tunnel after {@code 200}), HTTP/2 over TLS
 * and h2c with prior knowledge (every stream is a tunnel). Requests are checked in sing-box's order: host (400), path
 * prefix (404), method (404).
 *
 * @param hosts              client: the {@code Host}/{@code :authority}, one picked at random per tunnel; empty means
 *                           the server address without port over HTTP/1.1 and {@code www.example.com} over HTTP/2
 *                           (what sing-box and v2fly send). Server: when non-empty, the request's host must equal
 *                           one entry exactly (else 400). Default empty.
 * @param path               client: the request path (a leading {@code /} is added; escaped as Go's
 *                           {@code url.URL.setPath} does, so {@code ?} becomes {@code %3F}); server: the decoded
 *                           request path must start with it (else 404). Default {@value #DEFAULT_PATH}.
 * @param method             client: the request method, empty meaning {@value #DEFAULT_CLIENT_METHOD}; server: when
 *                           non-empty the request method must equal it (else 404), empty accepts any. Default empty.
 * @param headers            client: extra request headers (names as given, several values joined with
 *                           {@code ", "} over HTTP/1.1); a {@code Host} entry replaces the host choice over HTTP/1.1.
 *                           Server: headers added to the {@code 200} response, one value per name (the last, as
 *                           sing-box's {@code Header.Set}). Iteration order is the given order. Default empty.
 * @param h2                 HTTP/2 windows, limits and timeouts; its {@link H2Settings#idleTimeout()} is sing-box's
 *                           {@code idle_timeout} (client: PING health check after that long without frames; server:
 *                           GOAWAY a connection without streams for that long; zero disables both) and its
 *                           {@link H2Settings#pingTimeout()} is {@code ping_timeout}. Its
 *                           {@link H2Settings#maxHeaderListSize()} also bounds the HTTP/1.1 request head the server
 *                           accepts. Default {@link H2Settings#defaults()}.
 * @param h2cPriorKnowledge  client without TLS: speak HTTP/2 with prior knowledge (h2c) instead of HTTP/1.1 (what
 *                           sing-box's and v2fly's cleartext servers accept; neither peer's client does it). Ignored
 *                           with TLS and by the server (which detects h2c by its preface). Default {@code false}.
 * @param handshakeTimeout   client HTTP/1.1: how long to wait for the response head after sending the request; server:
 *                           how long TLS, PROXY header and the request head (or HTTP/2 preface) may take together.
 *                           The HTTP/2 client does not time out response HEADERS (sing-box servers up to 1.13.1 send
 *                           them only with the first downstream data); the pooled connection's PING health check
 *                           covers dead servers. Default {@value #DEFAULT_HANDSHAKE_TIMEOUT_SECONDS} s.
 * @param trustXForwardedFor server: take the tunnel's client address from the first element of
 *                           {@code X-Forwarded-For} when it is an IP literal (sing-box always does); only enable behind
 *                           a proxy you control. Default {@code false}.
 */
public record HttpOptions(List<String> hosts, String path, String method, Map<String, List<String>> headers,
                          H2Settings h2, boolean h2cPriorKnowledge, Duration handshakeTimeout,
                          boolean trustXForwardedFor) implements TransportOptions {

    /** The scheme: {@code http} is gost's HTTP CONNECT proxy and {@code h2} gost's own tunnel, hence the prefix. */
    public static final String SCHEME = "v2rayhttp";
    public static final String DEFAULT_PATH = "/";
    public static final String DEFAULT_CLIENT_METHOD = "PUT";
    /** The HTTP/2 client's authority when no host is configured (sing-box and v2fly; Xray's server expects it). */
    public static final String DEFAULT_H2_AUTHORITY = "www.example.com";
    /** sing-box's {@code C.TCPTimeout}, its server's {@code ReadHeaderTimeout}. */
    public static final long DEFAULT_HANDSHAKE_TIMEOUT_SECONDS = 15;

    public HttpOptions {
        List<String> hs = new ArrayList<>();
        for (String h : Objects.requireNonNullElse(hosts, List.<String>of())) {
            Objects.requireNonNull(h, "host");
            String s = h.strip();
            if (s.isEmpty()) {
                continue;
            }
            checkValue("host", s);
            if (s.indexOf(' ') >= 0 || s.indexOf('\t') >= 0) {
                throw new IllegalArgumentException("host must not contain whitespace: " + h);
            }
            hs.add(s);
        }
        hosts = List.copyOf(hs);
        path = path == null || path.isEmpty() ? DEFAULT_PATH : path;
        if (!path.startsWith("/")) {
            path = "/" + path;
        }
        HttpProtocol.requestTarget(path); // validates the escapes
        method = method == null ? "" : method.strip();
        if (!method.isEmpty()) {
            checkToken("method", method);
        }
        Map<String, List<String>> hm = new LinkedHashMap<>();
        if (headers != null) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                String name = Objects.requireNonNull(e.getKey(), "header name");
                checkToken("header name", name);
                List<String> values = new ArrayList<>();
                for (String v : Objects.requireNonNull(e.getValue(), "values of header " + name)) {
                    checkValue("header " + name, Objects.requireNonNull(v, "value of header " + name));
                    values.add(v);
                }
                if (values.isEmpty()) {
                    throw new IllegalArgumentException("header " + name + " has no value");
                }
                String lower = name.toLowerCase(Locale.ROOT);
                if (lower.startsWith(":") || lower.equals("connection") || lower.equals("transfer-encoding")
                        || lower.equals("content-length") || lower.equals("upgrade")
                        || lower.equals("keep-alive") || lower.equals("te")) {
                    throw new IllegalArgumentException("header " + name + " cannot be configured: it would break "
                            + "the tunnel's framing (or is not allowed in HTTP/2)");
                }
                hm.put(name, List.copyOf(values));
            }
        }
        headers = Collections.unmodifiableMap(hm);
        h2 = Objects.requireNonNullElse(h2, H2Settings.defaults());
        handshakeTimeout = Objects.requireNonNullElse(handshakeTimeout,
                Duration.ofSeconds(DEFAULT_HANDSHAKE_TIMEOUT_SECONDS));
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshakeTimeout must be positive");
        }
    }

    public static HttpOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder().hosts(hosts).path(path).method(method).h2(h2).h2cPriorKnowledge(h2cPriorKnowledge)
                .handshakeTimeout(handshakeTimeout).trustXForwardedFor(trustXForwardedFor);
        headers.forEach(b::header);
        return b;
    }

    /** The method the client sends. */
    public String clientMethod() {
        return method.isEmpty() ? DEFAULT_CLIENT_METHOD : method;
    }

    /** sing-box's {@code idle_timeout} (see {@link #h2}). */
    public Duration idleTimeout() {
        return h2.idleTimeout();
    }

    /** sing-box's {@code ping_timeout} (see {@link #h2}). */
    public Duration pingTimeout() {
        return h2.pingTimeout();
    }

    @Override
    public String transport() {
        return SCHEME;
    }

    private static void checkToken(String what, String s) {
        if (s.isEmpty()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c > ' ' && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
            if (!ok) {
                throw new IllegalArgumentException(what + " is not an HTTP token: " + s);
            }
        }
    }

    private static void checkValue(String what, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\r' || c == '\n' || c == 0 || c > 0xff) {
                throw new IllegalArgumentException(what + " contains a forbidden character: " + s);
            }
        }
    }

    public static final class Builder {
        private List<String> hosts = List.of();
        private String path = DEFAULT_PATH;
        private String method = "";
        private final Map<String, List<String>> headers = new LinkedHashMap<>();
        private H2Settings h2 = H2Settings.defaults();
        private Duration idleTimeout;
        private Duration pingTimeout;
        private boolean h2cPriorKnowledge;
        private Duration handshakeTimeout;
        private boolean trustXForwardedFor;

        public Builder hosts(List<String> v) {
            hosts = v;
            return this;
        }

        public Builder hosts(String... v) {
            hosts = List.of(v);
            return this;
        }

        public Builder path(String v) {
            path = v;
            return this;
        }

        public Builder method(String v) {
            method = v;
            return this;
        }

        /** Adds a header with one or more values (a second call for the same name adds values). */
        public Builder header(String name, String... values) {
            return header(name, List.of(values));
        }

        public Builder header(String name, List<String> values) {
            headers.computeIfAbsent(name, k -> new ArrayList<>()).addAll(values);
            return this;
        }

        public Builder clearHeaders() {
            headers.clear();
            return this;
        }

        /** HTTP/2 settings; {@link #idleTimeout}/{@link #pingTimeout}, when given, override theirs. */
        public Builder h2(H2Settings v) {
            h2 = v;
            return this;
        }

        public Builder idleTimeout(Duration v) {
            idleTimeout = v;
            return this;
        }

        public Builder pingTimeout(Duration v) {
            pingTimeout = v;
            return this;
        }

        public Builder h2cPriorKnowledge(boolean v) {
            h2cPriorKnowledge = v;
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

        public HttpOptions build() {
            H2Settings s = h2 == null ? H2Settings.defaults() : h2;
            if (idleTimeout != null || pingTimeout != null) {
                H2Settings.Builder b = s.toBuilder();
                if (idleTimeout != null) {
                    b.idleTimeout(idleTimeout);
                }
                if (pingTimeout != null) {
                    b.pingTimeout(pingTimeout);
                }
                s = b.build();
            }
            return new HttpOptions(hosts, path, method, headers, s, h2cPriorKnowledge, handshakeTimeout,
                    trustXForwardedFor);
        }
    }
}
