package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tunnelwire.conformance.Fixture;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * Maps a conformance case (its transport, role and neutral {@code options}) to a configuration of a reference peer,
 * or says why the peer cannot run it. Server role: the peer listens with the case's options and forwards every tunnel
 * (raw bytes) to the engine's application address; a proxy server connects to the destination in the request.
 * Client role: the peer accepts application connections on an entry port and opens one tunnel per connection to the
 * engine's fake server; a proxy client asks for the case's {@code destination} (fixed in the peer's config, so every
 * distinct destination is its own entry).
 *
 * <p>Cases whose mapping has the same {@link Mapping#key} share one inbound (one pair of ports); every peer runs as
 * one process/container with all its inbounds. The mappings per peer: {@link GostCases}, {@link XrayCases},
 * {@link SingBoxCases}; this class holds what they share.
 */
final class PeerCases {

    /** The peers the conformance cases run against (names from {@code versions.properties}). */
    static final List<String> PEERS = List.of("singbox", "xray", "gost");

    private PeerCases() {
    }

    /** The name the fixtures use in {@code peerDeviations} for a peer of {@code versions.properties}. */
    static String fixtureName(String peer) {
        return peer.equals("singbox") ? "sing-box" : peer;
    }

    /**
     * How one case runs on one peer: the peer's ports are {@code listen} (server: the peer's listener; client: its
     * entry) and {@code target} (server: the engine's application address it forwards to; client: the engine's fake
     * server it dials).
     *
     * @param key       identical for cases that need the same peer inbound
     * @param configure adds the inbound (and outbound) to the peer's config
     * @param perCase   why the case needs a peer process of its own, started for the case after the engine's fake
     *                  server listens, or {@code null} (the inbound lives in the peer's shared process)
     */
    record Mapping(String key, BiConsumer<Role, Ports> configure, String perCase) {
    }

    /** Ports of one mapped inbound. */
    record Ports(int listen, int target) {
    }

    /** Either a mapping or the reason the peer cannot run the case. */
    record Result(Mapping mapping, String notApplicable) {
        static Result na(String reason) {
            return new Result(null, reason);
        }

        static Result of(String key, BiConsumer<Role, Ports> configure) {
            return new Result(new Mapping(key, configure, null), null);
        }

    }

    static Result map(Fixture f, String peer) {
        Result r = switch (peer) {
            case "gost" -> GostCases.gost(f);
            case "xray" -> XrayCases.xray(f);
            case "singbox" -> SingBoxCases.singbox(f);
            default -> throw new IllegalArgumentException(peer);
        };
        String why = perCase(f);
        return r.mapping() == null || why == null ? r
                : new Result(new Mapping(r.mapping().key(), r.mapping().configure(), why), null);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    static boolean server(Fixture f) {
        return f.role() == Fixture.Role.SERVER;
    }

    static String opt(Fixture f, String name) {
        JsonNode n = f.options().get(name);
        return n == null || n.isNull() ? null : n.isTextual() ? n.asText() : n.toString();
    }

    static Set<String> keys(Fixture f) {
        Set<String> s = new TreeSet<>();
        f.options().fieldNames().forEachRemaining(s::add);
        return s;
    }

    /** Options that the peer mapping does not know, or empty. */
    static Set<String> unknown(Fixture f, Set<String> known) {
        Set<String> s = keys(f);
        s.removeAll(known);
        return s;
    }

    /**
     * The inbound key. Client cases never share an inbound: a peer client may still act on an earlier case (Xray
     * retries a rejected handshake up to 4 times, gost's PHT client goes on pulling) and would reach the next case's
     * fake server on a shared port; with an inbound of its own, such late attempts find nobody listening.
     */
    static String key(String peer, Fixture f, String extra) {
        return peer + " " + f.transport() + " " + f.role().name().toLowerCase() + " " + f.options() + extra
                + (server(f) ? "" : " case " + f.id());
    }

    /** The {@code destination} of the case's {@code app_open} (proxy protocol client cases), or {@code null}. */
    static String destination(Fixture f) {
        for (JsonNode s : f.steps()) {
            if ("app_open".equals(s.path("op").asText()) && s.has("destination")) {
                return s.get("destination").asText();
            }
        }
        return null;
    }

    static String host(String hostPort) {
        return hostPort.substring(0, hostPort.lastIndexOf(':')).replace("[", "").replace("]", "");
    }

    static int port(String hostPort) {
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }

    static final Set<String> PROXIES = Set.of("vless", "socks5", "http_connect", "relay", "http2");

    /** A proxy-protocol client case whose destination the peer's config cannot name (placeholders). */
    static String badDestination(Fixture f) {
        if (server(f) || !PROXIES.contains(f.transport())) {
            return null;
        }
        String d = destination(f);
        if (d == null) {
            return "the case opens no tunnel to a destination";
        }
        return d.contains("${") ? "the destination " + d + " is only known while the case runs" : null;
    }

    static String first(JsonNode users, String field) {
        return users.path(0).path(field).asText();
    }

    /**
     * Why a client case needs a peer process of its own: gRPC and h2c clients dial their pooled connection when the
     * peer starts and back off after a refused or closed connection (an RPC then fails fast), so the peer must start
     * after the engine's fake server listens, once per case; and an Xray HTTPUpgrade client crashes the whole process
     * on bytes that arrive with the 101 ({@link XrayCases#XRAY_HU_PANIC_CASE}); gost's PHT client keeps pulling after
     * its tunnel ended, which would reach the next case's fake server.
     */
    static String perCase(Fixture f) {
        if (server(f)) {
            return null;
        }
        if (Set.of("grpc", "h2tunnel").contains(f.transport())) {
            return "pooled HTTP/2 client: started after the fake server listens";
        }
        if (f.transport().equals("pht")) {
            // gost's PHT client goes on pulling (same token) after the case's tunnel ended
            return "PHT client: its pull loop outlives the case";
        }
        return f.id().equals(XrayCases.XRAY_HU_PANIC_CASE) ? "crashes Xray's process" : null;
    }
}
