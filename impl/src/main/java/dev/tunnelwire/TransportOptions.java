package dev.tunnelwire;

/**
 * Marker for the immutable options record of one transport ({@code WsOptions}, {@code TcpOptions}, ...). Each record
 * validates itself in its compact constructor, documents its defaults as {@code DEFAULT_*} constants and has a
 * builder. Options are parsed once, at the edge (CLI, config file), and never read from string maps below it.
 */
public interface TransportOptions {

    /** The scheme of the transport these options configure. */
    String transport();
}
