package dev.tunnelwire.proxy;

import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link Handler} needs from its service.
 *
 * @param service          the service's name, for logs
 * @param outbound         how to reach destinations (direct or a chain)
 * @param handshakeTimeout how long a client may take to send its complete request
 * @param firstPayloadWait how long a handler whose client speaks first waits for the client's first bytes before it
 *                         connects, so that they travel with the outbound request (zero: do not wait)
 */
public record HandlerContext(String service, Outbound outbound, Duration handshakeTimeout,
                             Duration firstPayloadWait) {

    public HandlerContext {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(outbound, "outbound");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        Objects.requireNonNull(firstPayloadWait, "firstPayloadWait");
    }
}
