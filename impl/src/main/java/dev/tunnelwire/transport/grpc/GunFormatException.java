package dev.tunnelwire.transport.grpc;

import io.netty.handler.codec.CorruptedFrameException;

/**
 * The peer sent a gun message this implementation does not accept: a compressed message, an unknown protobuf field,
 * a repeated {@code data} field in a Hunk/Chunk, a message larger than the configured maximum, or a message cut off
 * by the end of the stream. The tunnel is closed after this is fired (a server ends the call with
 * {@code grpc-status 13}, a client resets the stream).
 */
public final class GunFormatException extends CorruptedFrameException {

    private static final long serialVersionUID = 1L;

    public GunFormatException(String message) {
        super(message);
    }
}
