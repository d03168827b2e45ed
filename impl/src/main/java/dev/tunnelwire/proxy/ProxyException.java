package dev.tunnelwire.proxy;

import dev.tunnelwire.TunnelException;

/**
 * A proxy protocol refused or broke a connection: the server answered with an error code (HTTP status, SOCKS5 reply,
 * relay status), sent a malformed response, or closed before answering.
 */
public class ProxyException extends TunnelException {

    private static final long serialVersionUID = 1L;

    private final String protocol;
    private final int code;

    /**
     * @param protocol the proxy protocol, e.g. {@code socks5}
     * @param code     the protocol's error code (HTTP status, SOCKS5 reply code, relay status), or {@code -1}
     */
    public ProxyException(String protocol, int code, String message) {
        super(protocol + ": " + message);
        this.protocol = protocol;
        this.code = code;
    }

    public String protocol() {
        return protocol;
    }

    /** The server's error code, or {@code -1} when there was none. */
    public int code() {
        return code;
    }
}
