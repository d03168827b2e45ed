package dev.tunnelwire;

/** Which TLS implementation backs an {@code SslContext}. */
public enum TlsProvider {
    /** OpenSSL (BoringSSL from netty-tcnative) when available, else the JDK. */
    DEFAULT,
    /** The JDK's SSLEngine. */
    JDK,
    /** BoringSSL through netty-tcnative; fails when it is not available. */
    OPENSSL
}
