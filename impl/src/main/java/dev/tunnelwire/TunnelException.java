package dev.tunnelwire;

import java.io.IOException;

/** A tunnel could not be established or failed; subclasses say how. */
public class TunnelException extends IOException {

    private static final long serialVersionUID = 1L;

    public TunnelException(String message) {
        super(message);
    }

    public TunnelException(String message, Throwable cause) {
        super(message, cause);
    }
}
