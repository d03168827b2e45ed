package dev.tunnelwire;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how a dialer connects, independent of the transport.
 *
 * @param server         the server to connect to (may be unresolved; it is resolved at connect time)
 * @param tls            TLS settings, or {@code null} for cleartext
 * @param proxyProtocol  a PROXY protocol header to send first, or {@code null}
 * @param connectTimeout TCP connect timeout (default {@value #DEFAULT_CONNECT_TIMEOUT_SECONDS} s)
 */
public record DialerConfig(InetSocketAddress server, TlsClientOptions tls, ProxyProtocolVersion proxyProtocol,
                           Duration connectTimeout) {

    public static final long DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

    public DialerConfig {
        Objects.requireNonNull(server, "server");
        connectTimeout = Objects.requireNonNullElse(connectTimeout, Duration.ofSeconds(DEFAULT_CONNECT_TIMEOUT_SECONDS));
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive");
        }
    }

    public static DialerConfig of(InetSocketAddress server) {
        return new DialerConfig(server, null, null, null);
    }

    public static DialerConfig of(InetSocketAddress server, TlsClientOptions tls) {
        return new DialerConfig(server, tls, null, null);
    }

    public DialerConfig withTls(TlsClientOptions tls) {
        return new DialerConfig(server, tls, proxyProtocol, connectTimeout);
    }

    public DialerConfig withProxyProtocol(ProxyProtocolVersion v) {
        return new DialerConfig(server, tls, v, connectTimeout);
    }

    /** {@code host:port} of the server as configured (not resolved). */
    public String authority() {
        String host = server.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + server.getPort();
    }
}
