package dev.tunnelwire.transport.grpc;

/**
 * Outbound command, written by {@link GunFrameDecoder} towards {@link GunStreamAdapter}, to end the call because of a
 * protocol error: a server ends the stream with trailers carrying {@code grpcStatus}/{@code message}, a client
 * resets the stream. Not reference-counted.
 */
record GunAbort(int grpcStatus, String message) {
}
