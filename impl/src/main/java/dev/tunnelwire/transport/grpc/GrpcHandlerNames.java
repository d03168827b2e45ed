package dev.tunnelwire.transport.grpc;

/** Names of the gRPC transport's pipeline handlers. */
final class GrpcHandlerNames {

    static final String HANDSHAKE = "tw-grpc-handshake";
    static final String ADAPTER = "tw-grpc-adapter";
    static final String DECODER = "tw-grpc-decoder";
    static final String ENCODER = "tw-grpc-encoder";
    static final String KEEPALIVE_POLICY = "tw-grpc-keepalive-policy";

    private GrpcHandlerNames() {
    }
}
