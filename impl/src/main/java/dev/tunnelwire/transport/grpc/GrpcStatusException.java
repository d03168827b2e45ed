package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.TunnelException;

/**
 * A gRPC tunnel was refused or ended with an error by the server: an HTTP status other than 200, or a
 * {@code grpc-status} other than 0 (for example 12, UNIMPLEMENTED, for a wrong path). Fired through the tunnel's
 * pipeline ({@code exceptionCaught}) just before the tunnel is closed.
 */
public final class GrpcStatusException extends TunnelException {

    private static final long serialVersionUID = 1L;

    private final int httpStatus;
    private final int grpcStatus;
    private final String grpcMessage;

    public GrpcStatusException(int httpStatus, int grpcStatus, String grpcMessage) {
        super(describe(httpStatus, grpcStatus, grpcMessage));
        this.httpStatus = httpStatus;
        this.grpcStatus = grpcStatus;
        this.grpcMessage = grpcMessage;
    }

    /** The HTTP {@code :status} of the response, or {@code -1} when none was seen. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The {@code grpc-status}, or {@code -1} when the response carried none. */
    public int grpcStatus() {
        return grpcStatus;
    }

    /** The decoded {@code grpc-message}, or {@code null}. */
    public String grpcMessage() {
        return grpcMessage;
    }

    private static String describe(int httpStatus, int grpcStatus, String grpcMessage) {
        StringBuilder sb = new StringBuilder("gRPC tunnel failed:");
        if (httpStatus != 200) {
            sb.append(" HTTP status ").append(httpStatus);
        }
        if (grpcStatus >= 0) {
            sb.append(" grpc-status ").append(grpcStatus);
        }
        if (grpcMessage != null && !grpcMessage.isEmpty()) {
            sb.append(" (").append(grpcMessage).append(')');
        }
        return sb.toString();
    }
}
