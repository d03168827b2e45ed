package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * What the recorder saw for one pair: the connection between the peer client and the peer server as a list of reads
 * in both directions (with their times, so exchanges and pipelining stay visible) and the events (FIN, close), plus
 * the provenance of both peers. Stored next to the committed fixtures' unit test as JSON
 * ({@code src/test/resources/recordings/<pair>.json}) so that the normaliser can be tested without Docker.
 *
 * @param pair          {@link RecordedPair#key()}
 * @param clientVersion version of the client peer
 * @param serverVersion version of the server peer
 * @param clientConfig  the client peer's config for this pair, with the symbolic ports of
 *                      {@link RecordedPair#EXCERPT_PORTS}
 * @param serverConfig  the server peer's config, likewise
 * @param dialPort      the port the client connected to (the recorder): appears in Host headers and authorities
 * @param appPort       the application's port: appears in proxy requests
 * @param entries       the reads of the connection, in order (of all connections, for a transport using several)
 * @param conns         for each entry, the number of its connection (0, 1, ... in order of opening); empty when the
 *                      recording has one connection
 */
record Recording(String pair, String clientVersion, String serverVersion, String clientConfig, String serverConfig,
                 int dialPort, int appPort, List<Transcript.Entry> entries, List<Integer> conns) {

    /** The payload the application sends through the client, and the application's answer. */
    static final byte[] UP = "hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    static final byte[] DOWN = "world".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    Recording {
        entries = List.copyOf(entries);
        conns = List.copyOf(conns);
    }

    /** The connection of entry {@code i}. */
    int conn(int i) {
        return conns.isEmpty() ? 0 : conns.get(i);
    }

    ObjectNode toJson() {
        ObjectNode n = Role.F.objectNode();
        n.put("pair", pair).put("clientVersion", clientVersion).put("serverVersion", serverVersion)
                .put("clientConfig", clientConfig).put("serverConfig", serverConfig).put("dialPort", dialPort)
                .put("appPort", appPort);
        ArrayNode a = n.putArray("entries");
        for (int i = 0; i < entries.size(); i++) {
            Transcript.Entry e = entries.get(i);
            ObjectNode o = a.addObject();
            if (!conns.isEmpty()) {
                o.put("conn", conns.get(i));
            }
            o.put("dir", e.dir() == Transcript.Dir.TO_SERVER ? "up" : "down").put("us", e.micros());
            if (e.data() != null) {
                o.put("hex", HexFormat.of().formatHex(e.data()));
            } else {
                o.put("event", e.event());
            }
        }
        return n;
    }

    static Recording fromJson(JsonNode n) {
        List<Transcript.Entry> entries = new ArrayList<>();
        List<Integer> conns = new ArrayList<>();
        for (JsonNode e : n.path("entries")) {
            if (e.has("conn")) {
                conns.add(e.get("conn").asInt());
            }
            Transcript.Dir dir = e.path("dir").asText().equals("up") ? Transcript.Dir.TO_SERVER
                    : Transcript.Dir.TO_CLIENT;
            entries.add(new Transcript.Entry(dir, e.path("us").asLong(),
                    e.has("hex") ? HexFormat.of().parseHex(e.get("hex").asText()) : null,
                    e.has("event") ? e.get("event").asText() : null));
        }
        return new Recording(n.path("pair").asText(), n.path("clientVersion").asText(),
                n.path("serverVersion").asText(), n.path("clientConfig").asText(), n.path("serverConfig").asText(),
                n.path("dialPort").asInt(), n.path("appPort").asInt(), entries, conns);
    }
}
