package dev.tunnelwire;

/**
 * The transport handshake failed: the server answered with an unexpected status, a malformed response, a wrong
 * {@code Sec-WebSocket-Accept}, or did not answer within the handshake timeout.
 */
public class HandshakeException extends TunnelException {

    private static final long serialVersionUID = 1L;

    private final int status;

    public HandshakeException(String message) {
        this(message, -1, null);
    }

    public HandshakeException(String message, int status) {
        this(message, status, null);
    }

    public HandshakeException(String message, int status, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP (or gRPC) status the server answered with, or {@code -1} when there was none. */
    public int status() {
        return status;
    }
}
