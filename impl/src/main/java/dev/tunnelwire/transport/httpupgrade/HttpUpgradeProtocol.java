package dev.tunnelwire.transport.httpupgrade;

/**
 * Wire constants and pipeline names of the {@code httpupgrade} transport (peer-xray.md §2, peer-singbox.md §4).
 *
 * <pre>
 * C→S  GET /path HTTP/1.1\r\n
 *      Host: example.com\r\n
 *      User-Agent: Go-http-client/1.1\r\n
 *      Connection: Upgrade\r\n          (other headers sorted by name bytes, as Go writes them)
 *      Upgrade: websocket\r\n
 *      \r\n
 *      [XRAY_ED: first payload, in a write of its own, without waiting]
 * S→C  HTTP/1.1 101 Switching Protocols\r\n
 *      Connection: Upgrade\r\n
 *      Upgrade: websocket\r\n
 *      \r\n
 *      raw bytes both ways, no framing
 * </pre>
 */
final class HttpUpgradeProtocol {

    /** Pipeline name of the HTTP/1 codec that is removed at the 101. */
    static final String CODEC = "tw-hu-codec";
    /** Pipeline name of the one-shot client or server handshake handler. */
    static final String HANDSHAKE = "tw-hu-handshake";
    /** Pipeline name of the server's recorder of raw request bytes (only with a fallback). */
    static final String RECORDER = "tw-hu-recorder";

    /** The only values the peers accept (compared case-insensitively, whole value). */
    static final String CONNECTION_UPGRADE = "Upgrade";
    static final String UPGRADE_WEBSOCKET = "websocket";
    /** ALPN offered and selected: HU is HTTP/1.1 only. */
    static final String ALPN_HTTP_1_1 = "http/1.1";

    private HttpUpgradeProtocol() {
    }
}
