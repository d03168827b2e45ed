package dev.tunnelwire.transport.h2tunnel;

import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.internal.h2.H2Settings;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Options of GOST's HTTP/2 tunnel: {@code h2} (over TLS, ALPN {@code h2}) and {@code h2c} (cleartext, prior
 * knowledge). Each tunnel is one HTTP/2 stream whose request body and response body are the two directions; all
 * tunnels of a dialer share one connection.
 *
 * <p>Without a {@link #path} the client sends {@code :method CONNECT} with only {@code :authority} (the node address,
 * or {@link #host}), and the server accepts only CONNECT (405 otherwise). With a path the client sends {@code GET}
 * with {@code :scheme} and {@code :path}, and the server requires that exact {@code :path} (400 otherwise) and accepts
 * any method. The server answers {@code :status 200} at once; any other status fails the client's dial.
 *
 * @param path             tunnel path, or {@code null} for CONNECT mode (gost's default)
 * @param host             client: the {@code :authority}; {@code null} means the server address as configured
 * @param headers          client: extra request headers (names lower-cased on the wire, as HTTP/2 requires)
 * @param userAgent        client: {@code user-agent} (default {@value #DEFAULT_USER_AGENT}; gost sends Go's)
 * @param h2               HTTP/2 windows, limits and optional PING health check
 * @param handshakeTimeout client: the response HEADERS must arrive within this (default
 *                         {@value #DEFAULT_HANDSHAKE_TIMEOUT_SECONDS} s)
 */
public record H2TunnelOptions(String path, String host, Map<String, String> headers, String userAgent, H2Settings h2,
                              Duration handshakeTimeout) implements TransportOptions {

    public static final String SCHEME = "h2";
    public static final String SCHEME_CLEARTEXT = "h2c";
    public static final String DEFAULT_USER_AGENT = "Go-http-client/2.0";
    public static final long DEFAULT_HANDSHAKE_TIMEOUT_SECONDS = 15;

    public H2TunnelOptions {
        if (path != null && (path.isEmpty() || !path.startsWith("/"))) {
            throw new IllegalArgumentException("path must start with '/': " + path);
        }
        headers = Map.copyOf(Objects.requireNonNullElse(headers, Map.of()));
        userAgent = Objects.requireNonNullElse(userAgent, DEFAULT_USER_AGENT);
        h2 = Objects.requireNonNullElse(h2, H2Settings.defaults());
        handshakeTimeout = Objects.requireNonNullElse(handshakeTimeout,
                Duration.ofSeconds(DEFAULT_HANDSHAKE_TIMEOUT_SECONDS));
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshakeTimeout must be positive");
        }
    }

    public static H2TunnelOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().path(path).host(host).headers(headers).userAgent(userAgent).h2(h2)
                .handshakeTimeout(handshakeTimeout);
    }

    @Override
    public String transport() {
        return SCHEME;
    }

    public static final class Builder {
        private String path;
        private String host;
        private Map<String, String> headers = new LinkedHashMap<>();
        private String userAgent;
        private H2Settings h2;
        private Duration handshakeTimeout;

        public Builder path(String v) {
            path = v;
            return this;
        }

        public Builder host(String v) {
            host = v;
            return this;
        }

        public Builder headers(Map<String, String> v) {
            headers = new LinkedHashMap<>(v);
            return this;
        }

        public Builder header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        public Builder userAgent(String v) {
            userAgent = v;
            return this;
        }

        public Builder h2(H2Settings v) {
            h2 = v;
            return this;
        }

        public Builder handshakeTimeout(Duration v) {
            handshakeTimeout = v;
            return this;
        }

        public H2TunnelOptions build() {
            return new H2TunnelOptions(path, host, headers, userAgent, h2, handshakeTimeout);
        }
    }
}
