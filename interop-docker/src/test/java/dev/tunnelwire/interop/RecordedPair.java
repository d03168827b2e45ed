package dev.tunnelwire.interop;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One recorded pair: a peer client and a peer server of the same transport, the recorder between them, and the two
 * fixtures their capture is normalised into ({@code <transport>.server.recorded_<clientPeer>_<serverCase>}, where
 * the engine replays the recorded client, and {@code <transport>.client.recorded_<serverPeer>_<clientCase>}, where
 * the engine replays the recorded server).
 *
 * @param transport     fixture transport ({@code ws}, {@code grpc}, {@code socks5}, ...)
 * @param syntax        how the capture is parsed
 * @param clientPeer    the peer playing the client ({@code gost}, {@code xray}, {@code singbox})
 * @param serverPeer    the peer playing the server
 * @param serverCase    last part of the server-role fixture id (after {@code recorded_<clientPeer>_})
 * @param clientCase    last part of the client-role fixture id (after {@code recorded_<serverPeer>_})
 * @param what          one line: what is recorded (for the fixture titles)
 * @param client        adds the client's half to its role's config
 * @param server        adds the server's half to its role's config
 * @param socksEntry    whether the client is entered through a SOCKS5 inbound (CONNECT to the application) rather
 *                      than a TCP port forwarding to it
 * @param serverOptions neutral options of the server-role fixture: what the recorded server was configured with
 * @param clientOptions neutral options of the client-role fixture: what the recorded client was configured with
 * @param innerVless    the tunnel carries VLESS (sing-box's transports exist only under a proxy protocol): the
 *                      application bytes hold a VLESS header whose destination port is normalised
 */
record RecordedPair(String transport, Syntax syntax, String clientPeer, String serverPeer, String serverCase,
                    String clientCase, String what, Half client, Half server, boolean socksEntry,
                    Map<String, Object> serverOptions, Map<String, Object> clientOptions, boolean innerVless) {

    /** How a capture is read. */
    enum Syntax {
        /** HTTP/1.1 upgrade, then RFC 6455 frames. */
        WS,
        /** HTTP/1.1 upgrade (V2Ray HTTPUpgrade), then raw bytes. */
        HTTPUPGRADE,
        /** An HTTP/1.1 request and response head (V2Ray HTTP over HTTP/1.1), then raw bytes. */
        HTTP1,
        /** HTTP/2 (h2c) with gun messages on stream 1. */
        GRPC,
        /** HTTP/2 (h2c) with raw DATA on stream 1 (GOST h2c tunnel). */
        H2,
        /** GOST's plain HTTP tunnel: authorize, pull and push requests over several HTTP/1.1 connections. */
        PHT,
        /** A proxy protocol on raw TCP: exchanges of bytes. */
        RAW
    }

    /** The symbolic ports used in the config excerpts of the fixtures (the real ones are random). */
    static final Ports EXCERPT_PORTS = new Ports(1080, 8443, 8443, 9000);

    /**
     * The ports of a pair.
     *
     * @param entry  the client's local entry (TCP forward or SOCKS5)
     * @param dial   where the client connects: the recorder
     * @param listen where the server listens (the recorder's target)
     * @param app    the application (destination) behind the server
     */
    record Ports(int entry, int dial, int listen, int app) {
    }

    /** Adds one half of the pair to a role's config. */
    @FunctionalInterface
    interface Half {
        void configure(Role role, String tag, Ports ports);
    }

    /** A stable key: {@code <transport>-<clientPeer>-<serverPeer>-<serverCase>}. */
    String key() {
        return transport + "-" + clientPeer + "-" + serverPeer + "-" + serverCase;
    }

    String serverFixtureId() {
        return transport + ".server.recorded_" + clientPeer.replace('-', '_') + "_" + serverCase;
    }

    String clientFixtureId() {
        return transport + ".client.recorded_" + serverPeer.replace('-', '_') + "_" + clientCase;
    }

    /** An ordered option map from {@code key, value, key, value, ...}. */
    static Map<String, Object> opts(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
