package dev.tunnelwire.interop;

import java.util.Locale;

/**
 * One cell of the interop matrix: a peer, a transport and a variant of it, a direction and TLS on or off.
 *
 * @param peer      peer name as in {@code peers/versions.properties} ({@code gost}, {@code xray}, {@code singbox}, ...)
 * @param transport transport scheme on the wire ({@code tcp}, {@code ws}, {@code grpc}, ...)
 * @param variant   what else distinguishes the cell: the carried protocol and options ({@code forward},
 *                  {@code tunnel}, {@code vless-ed-path}, ...)
 * @param direction {@link Direction#OUTBOUND}: our dialer to the peer's server; {@link Direction#INBOUND}: the peer's
 *                  client to our listener
 * @param tls       whether the transport runs over TLS
 */
public record Cell(String peer, String transport, String variant, Direction direction, boolean tls) {

    /** Which side of the tunnel is ours. */
    public enum Direction {
        /** Our dialer → the peer's server → our echo target. */
        OUTBOUND,
        /** The peer's client (driven through its local entry) → our listener → our echo target. */
        INBOUND;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Outcome of a cell. */
    public enum State {
        PASS("pass"), FAIL("fail"), UNSUPPORTED("unsupported"), KNOWN_PEER_BUG("known-peer-bug");

        private final String json;

        State(String json) {
            this.json = json;
        }

        public String json() {
            return json;
        }
    }

    /** A stable, readable id: {@code gost/tcp/forward/outbound/tls}. */
    public String id() {
        return peer + "/" + transport + "/" + variant + "/" + direction.json() + "/" + (tls ? "tls" : "plain");
    }

    /** A name usable in file names and config tags. */
    public String tag() {
        return id().replace('/', '-').replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
