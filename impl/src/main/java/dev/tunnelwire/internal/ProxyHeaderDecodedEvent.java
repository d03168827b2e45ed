package dev.tunnelwire.internal;

/** Fired by {@link ProxyProtocolServerHandler} once the PROXY header was decoded, before any bytes that follow it. */
public enum ProxyHeaderDecodedEvent {
    INSTANCE
}
