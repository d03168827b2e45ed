package dev.tunnelwire.proxy.relay;

import dev.tunnelwire.proxy.Authenticator;
import dev.tunnelwire.proxy.Destination;

/**
 * Options of the GOST relay server.
 *
 * @param authenticator checks the UserAuth feature; {@code null} (default): no authentication
 * @param nodelay       send the {@code OK} response as soon as the destination is connected (default
 *                      {@value #DEFAULT_NODELAY}: delay it and send it with the destination's first bytes, as gost
 *                      does)
 * @param target        forward mode: connect here whatever the Addr feature says ({@code null}, default: use Addr)
 */
public record RelayHandlerOptions(Authenticator authenticator, boolean nodelay, Destination target) {

    public static final boolean DEFAULT_NODELAY = false;

    public static RelayHandlerOptions defaults() {
        return new RelayHandlerOptions(null, DEFAULT_NODELAY, null);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().authenticator(authenticator).nodelay(nodelay).target(target);
    }

    public static final class Builder {
        private Authenticator authenticator;
        private boolean nodelay = DEFAULT_NODELAY;
        private Destination target;

        public Builder authenticator(Authenticator v) {
            authenticator = v;
            return this;
        }

        public Builder nodelay(boolean v) {
            nodelay = v;
            return this;
        }

        public Builder target(Destination v) {
            target = v;
            return this;
        }

        public RelayHandlerOptions build() {
            return new RelayHandlerOptions(authenticator, nodelay, target);
        }
    }
}
