package dev.tunnelwire.proxy.socks5;

import dev.tunnelwire.proxy.Authenticator;

/**
 * Options of the SOCKS5 server.
 *
 * @param authenticator username/password (RFC 1929) check; {@code null} (default): no authentication
 */
public record Socks5HandlerOptions(Authenticator authenticator) {

    public static Socks5HandlerOptions defaults() {
        return new Socks5HandlerOptions(null);
    }
}
