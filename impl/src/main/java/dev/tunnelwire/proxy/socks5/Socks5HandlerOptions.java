package dev.tunnelwire.proxy.socks5;

import dev.tunnelwire.proxy.Authenticator;

/**
 * Options of the SOCKS5 server.
 *
 * @param authenticator username/password (RFC 1929) check; {@code null} (default): no authentication
 * @param earlyReply    answer CONNECT with success before connecting (default {@value #DEFAULT_EARLY_REPLY}: answer
 *                      after connecting, with the failure's reply code, as gost). With an early reply the client's
 *                      first bytes travel with the outbound request (e.g. in WebSocket early data), as with Xray's and
 *                      sing-box's SOCKS inbounds; a failed connect then only closes the connection.
 */
public record Socks5HandlerOptions(Authenticator authenticator, boolean earlyReply) {

    public static final boolean DEFAULT_EARLY_REPLY = false;

    public Socks5HandlerOptions(Authenticator authenticator) {
        this(authenticator, DEFAULT_EARLY_REPLY);
    }

    public static Socks5HandlerOptions defaults() {
        return new Socks5HandlerOptions(null, DEFAULT_EARLY_REPLY);
    }
}
