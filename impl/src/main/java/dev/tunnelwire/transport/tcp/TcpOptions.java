package dev.tunnelwire.transport.tcp;

import dev.tunnelwire.TransportOptions;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of the raw {@code tcp} transport: the baseline, with no handshake. The tunnel is the TCP connection (plus
 * TLS and a PROXY header when the dialer/listener config asks for them), with half-close.
 *
 * @param tlsHandshakeTimeout how long a TLS handshake may take before the connection is closed (default
 *                            {@value #DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECONDS} s)
 */
public record TcpOptions(Duration tlsHandshakeTimeout) implements TransportOptions {

    public static final String SCHEME = "tcp";
    public static final long DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECONDS = 15;

    public TcpOptions {
        tlsHandshakeTimeout = Objects.requireNonNullElse(tlsHandshakeTimeout,
                Duration.ofSeconds(DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECONDS));
        if (tlsHandshakeTimeout.isNegative() || tlsHandshakeTimeout.isZero()) {
            throw new IllegalArgumentException("tlsHandshakeTimeout must be positive");
        }
    }

    public static TcpOptions defaults() {
        return new TcpOptions(null);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().tlsHandshakeTimeout(tlsHandshakeTimeout);
    }

    @Override
    public String transport() {
        return SCHEME;
    }

    public static final class Builder {
        private Duration tlsHandshakeTimeout;

        public Builder tlsHandshakeTimeout(Duration v) {
            tlsHandshakeTimeout = v;
            return this;
        }

        public TcpOptions build() {
            return new TcpOptions(tlsHandshakeTimeout);
        }
    }
}
