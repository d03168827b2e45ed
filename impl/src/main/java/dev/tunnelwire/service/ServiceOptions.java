package dev.tunnelwire.service;

import java.time.Duration;
import java.util.Objects;

/**
 * Options every service has, whatever its handler.
 *
 * @param handshakeTimeout how long a client may take to send its complete proxy request before the connection is
 *                         closed (default {@value #DEFAULT_HANDSHAKE_TIMEOUT_SECONDS} s, gost's {@code readTimeout})
 * @param firstPayloadWait how long a handler whose client speaks first (forward, relay, VLESS) waits for the
 *                         client's first bytes before connecting through a chain with hops, so that they travel
 *                         with the outbound request, e.g. in WebSocket early data (default
 *                         {@value #DEFAULT_FIRST_PAYLOAD_WAIT_MILLIS} ms; zero disables the wait; direct connections
 *                         never wait)
 */
public record ServiceOptions(Duration handshakeTimeout, Duration firstPayloadWait) {

    public static final long DEFAULT_HANDSHAKE_TIMEOUT_SECONDS = 15;
    public static final long DEFAULT_FIRST_PAYLOAD_WAIT_MILLIS = 50;

    public ServiceOptions {
        handshakeTimeout = Objects.requireNonNullElse(handshakeTimeout,
                Duration.ofSeconds(DEFAULT_HANDSHAKE_TIMEOUT_SECONDS));
        firstPayloadWait = Objects.requireNonNullElse(firstPayloadWait,
                Duration.ofMillis(DEFAULT_FIRST_PAYLOAD_WAIT_MILLIS));
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshakeTimeout must be positive");
        }
        if (firstPayloadWait.isNegative()) {
            throw new IllegalArgumentException("firstPayloadWait must not be negative");
        }
    }

    public static ServiceOptions defaults() {
        return new ServiceOptions(null, null);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().handshakeTimeout(handshakeTimeout).firstPayloadWait(firstPayloadWait);
    }

    public static final class Builder {
        private Duration handshakeTimeout;
        private Duration firstPayloadWait;

        public Builder handshakeTimeout(Duration v) {
            handshakeTimeout = v;
            return this;
        }

        public Builder firstPayloadWait(Duration v) {
            firstPayloadWait = v;
            return this;
        }

        public ServiceOptions build() {
            return new ServiceOptions(handshakeTimeout, firstPayloadWait);
        }
    }
}
