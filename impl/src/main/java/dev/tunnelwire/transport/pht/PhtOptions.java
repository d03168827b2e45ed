package dev.tunnelwire.transport.pht;

import dev.tunnelwire.TransportOptions;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of GOST's plain HTTP tunnel ({@code pht}; {@code phts} is the same over TLS with ALPN {@code http/1.1}).
 *
 * <p>Wire format (gost v3.2.6, x v0.8.1): {@code GET authorizePath} answers {@code token=<id>}; the client keeps one
 * {@code GET pullPath?token=} outstanding, whose chunked response carries one line {@code base64std(bytes) "\n"}
 * per chunk of at most {@link #maxChunk} raw bytes; the server ends an idle pull after {@link #pullIdle} with a single
 * {@code "\n"} and ends it with no line at all to say that the tunnel closed; every client chunk is one
 * {@code POST pushPath?token=} whose body is one base64 line, and an empty body (no newline) closes the tunnel.
 *
 * @param authorizePath      path of the authorize request (default {@value #DEFAULT_AUTHORIZE_PATH})
 * @param pushPath           path of push requests (default {@value #DEFAULT_PUSH_PATH})
 * @param pullPath           path of pull requests (default {@value #DEFAULT_PULL_PATH})
 * @param host               client: the Host header (gost {@code host}); {@code null} = the server address
 * @param maxChunk           raw bytes per pull line and per push, at most (default {@value #DEFAULT_MAX_CHUNK}, as
 *                           gost; a gost client accepts lines up to 64 KiB, i.e. at most 49 149 raw bytes)
 * @param pullIdle           server: end a pull response after this long without data, with a {@code "\n"} heartbeat
 *                           (default {@value #DEFAULT_PULL_IDLE_SECONDS} s, as gost v3.2.6)
 * @param sessionIdleTimeout server: close a session when no request touched it for this long; gost v3.2.6 clients
 *                           never announce their close, they just stop polling (default
 *                           {@value #DEFAULT_SESSION_IDLE_SECONDS} s)
 * @param maxSessions        server: sessions at most; the next authorize gets 429 (default
 *                           {@value #DEFAULT_MAX_SESSIONS})
 * @param handshakeTimeout   client: authorize must answer within this; server: a connection must send a request head
 *                           within this (default {@value #DEFAULT_HANDSHAKE_TIMEOUT_SECONDS} s)
 * @param userAgent          client User-Agent (default {@value #DEFAULT_USER_AGENT})
 */
public record PhtOptions(String authorizePath, String pushPath, String pullPath, String host, int maxChunk,
                         Duration pullIdle, Duration sessionIdleTimeout, int maxSessions, Duration handshakeTimeout,
                         String userAgent) implements TransportOptions {

    public static final String SCHEME = "pht";
    public static final String DEFAULT_AUTHORIZE_PATH = "/authorize";
    public static final String DEFAULT_PUSH_PATH = "/push";
    public static final String DEFAULT_PULL_PATH = "/pull";
    public static final int DEFAULT_MAX_CHUNK = 32 * 1024;
    /** Largest raw chunk whose base64 line (plus newline) fits a gost client's 64 KiB line limit. */
    public static final int MAX_CHUNK_LIMIT = 49_149;
    public static final long DEFAULT_PULL_IDLE_SECONDS = 10;
    public static final long DEFAULT_SESSION_IDLE_SECONDS = 30;
    public static final int DEFAULT_MAX_SESSIONS = 4096;
    public static final long DEFAULT_HANDSHAKE_TIMEOUT_SECONDS = 15;
    public static final String DEFAULT_USER_AGENT = "tunnelwire";

    public PhtOptions {
        authorizePath = path(authorizePath, DEFAULT_AUTHORIZE_PATH);
        pushPath = path(pushPath, DEFAULT_PUSH_PATH);
        pullPath = path(pullPath, DEFAULT_PULL_PATH);
        if (authorizePath.equals(pushPath) || authorizePath.equals(pullPath) || pushPath.equals(pullPath)) {
            throw new IllegalArgumentException("authorize, push and pull paths must differ");
        }
        if (maxChunk <= 0 || maxChunk > MAX_CHUNK_LIMIT) {
            throw new IllegalArgumentException("maxChunk must be in [1, " + MAX_CHUNK_LIMIT + "]: " + maxChunk);
        }
        pullIdle = positive(pullIdle, DEFAULT_PULL_IDLE_SECONDS, "pullIdle");
        sessionIdleTimeout = positive(sessionIdleTimeout, DEFAULT_SESSION_IDLE_SECONDS, "sessionIdleTimeout");
        handshakeTimeout = positive(handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT_SECONDS, "handshakeTimeout");
        if (sessionIdleTimeout.compareTo(pullIdle) <= 0) {
            throw new IllegalArgumentException("sessionIdleTimeout must be longer than pullIdle");
        }
        if (maxSessions <= 0) {
            throw new IllegalArgumentException("maxSessions must be positive: " + maxSessions);
        }
        userAgent = Objects.requireNonNullElse(userAgent, DEFAULT_USER_AGENT);
    }

    /** gost's rule: a path that does not start with {@code /} falls back to the default. */
    private static String path(String p, String def) {
        return p == null || !p.startsWith("/") ? def : p;
    }

    private static Duration positive(Duration d, long defSeconds, String name) {
        Duration v = Objects.requireNonNullElse(d, Duration.ofSeconds(defSeconds));
        if (v.isNegative() || v.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
        return v;
    }

    public static PhtOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().authorizePath(authorizePath).pushPath(pushPath).pullPath(pullPath).host(host)
                .maxChunk(maxChunk).pullIdle(pullIdle).sessionIdleTimeout(sessionIdleTimeout).maxSessions(maxSessions)
                .handshakeTimeout(handshakeTimeout).userAgent(userAgent);
    }

    @Override
    public String transport() {
        return SCHEME;
    }

    public static final class Builder {
        private String authorizePath;
        private String pushPath;
        private String pullPath;
        private String host;
        private int maxChunk = DEFAULT_MAX_CHUNK;
        private Duration pullIdle;
        private Duration sessionIdleTimeout;
        private int maxSessions = DEFAULT_MAX_SESSIONS;
        private Duration handshakeTimeout;
        private String userAgent;

        public Builder authorizePath(String v) {
            authorizePath = v;
            return this;
        }

        public Builder pushPath(String v) {
            pushPath = v;
            return this;
        }

        public Builder pullPath(String v) {
            pullPath = v;
            return this;
        }

        public Builder host(String v) {
            host = v;
            return this;
        }

        public Builder maxChunk(int v) {
            maxChunk = v;
            return this;
        }

        public Builder pullIdle(Duration v) {
            pullIdle = v;
            return this;
        }

        public Builder sessionIdleTimeout(Duration v) {
            sessionIdleTimeout = v;
            return this;
        }

        public Builder maxSessions(int v) {
            maxSessions = v;
            return this;
        }

        public Builder handshakeTimeout(Duration v) {
            handshakeTimeout = v;
            return this;
        }

        public Builder userAgent(String v) {
            userAgent = v;
            return this;
        }

        public PhtOptions build() {
            return new PhtOptions(authorizePath, pushPath, pullPath, host, maxChunk, pullIdle, sessionIdleTimeout,
                    maxSessions, handshakeTimeout, userAgent);
        }
    }
}
