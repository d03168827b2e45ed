package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The normaliser on the committed raw recordings ({@code src/test/resources/recordings/}), without Docker or peers:
 * each recording must normalise to exactly the committed fixtures (so the fixtures are reproducible from the
 * captures), and the normalisation rules hold on real transcripts.
 */
class FixtureNormaliserTest {

    private static final Map<String, RecordedPair> PAIRS = RecordedPairs.all().stream()
            .collect(Collectors.toMap(RecordedPair::key, Function.identity()));

    private static Recording recording(String key) throws IOException {
        return Recording.fromJson(RecordedFixtureFiles.read(RecordedFixtureFiles.recordingFile(PAIRS.get(key))));
    }

    @TestFactory
    Stream<DynamicTest> everyRecordingNormalisesToItsCommittedFixtures() {
        assertFalse(PAIRS.isEmpty());
        List<DynamicTest> tests = new ArrayList<>();
        for (RecordedPair pair : RecordedPairs.all()) {
            tests.add(DynamicTest.dynamicTest(pair.key(), () -> {
                assertTrue(Files.exists(RecordedFixtureFiles.recordingFile(pair)),
                        "no committed recording for " + pair.key() + " (record with -Drecord.write=true)");
                FixtureNormaliser.Fixtures f = FixtureNormaliser.normalise(pair, recording(pair.key()));
                assertNull(RecordedFixtureFiles.diff(f.server()));
                assertNull(RecordedFixtureFiles.diff(f.client()));
            }));
        }
        return tests.stream();
    }

    @Test
    void recordingRoundTripsThroughJson() throws IOException {
        Recording r = recording("ws-gost-gost-forward");
        Recording again = Recording.fromJson(r.toJson());
        assertEquals(RecordedFixtureFiles.pretty(r.toJson()), RecordedFixtureFiles.pretty(again.toJson()));
    }

    @Test
    void webSocketKeyIsAPlaceholderAndTheAcceptIsComputed() throws IOException {
        RecordedPair pair = PAIRS.get("ws-gost-gost-forward");
        FixtureNormaliser.Fixtures f = FixtureNormaliser.normalise(pair, recording(pair.key()));
        ObjectNode s = f.server();
        assertEquals("recorded", s.at("/source/type").asText());
        assertEquals("gost", s.at("/source/peer").asText());
        assertEquals(16, s.at("/vars/key/of/random").asInt());
        JsonNode request = s.at("/steps/0/http/headers");
        boolean keyIsPlaceholder = false;
        for (JsonNode h : request) {
            if (h.get(0).asText().equalsIgnoreCase("Sec-WebSocket-Key")) {
                keyIsPlaceholder = h.get(1).asText().equals("${key}");
            }
            assertFalse(h.get(1).asText().matches(".*127\\.0\\.0\\.1:\\d{4,5}.*"), "a recorder port leaked: " + h);
        }
        assertTrue(keyIsPlaceholder, request.toString());
        assertEquals("key", s.at("/steps/1/http/headers/Sec-WebSocket-Accept/wsAccept/var").asText());
        // the client role answers with the accept of the key the client under test sends
        assertEquals("key", f.client().at("/steps/1/http/headers/Sec-WebSocket-Key/capture").asText());
    }

    @Test
    void anUnmaskedClientFrameIsRejected() throws IOException {
        RecordedPair pair = PAIRS.get("ws-gost-gost-forward");
        Recording r = recording(pair.key());
        List<Transcript.Entry> entries = new ArrayList<>();
        boolean headSeen = false;
        boolean changed = false;
        for (Transcript.Entry e : r.entries()) {
            byte[] d = e.data();
            if (e.dir() == Transcript.Dir.TO_SERVER && headSeen && !changed) {
                // rewrite the first client frame unmasked: same payload, mask bit and key removed
                int len = d[1] & 0x7F;
                byte[] key = {d[2], d[3], d[4], d[5]};
                byte[] out = new byte[2 + len];
                out[0] = d[0];
                out[1] = (byte) len;
                for (int i = 0; i < len; i++) {
                    out[2 + i] = (byte) (d[6 + i] ^ key[i & 3]);
                }
                d = out;
                changed = true;
            }
            if (e.dir() == Transcript.Dir.TO_SERVER) {
                headSeen = true;
            }
            entries.add(new Transcript.Entry(e.dir(), e.micros(), d, e.event()));
        }
        assertTrue(changed);
        Recording bad = new Recording(r.pair(), r.clientVersion(), r.serverVersion(), r.clientConfig(),
                r.serverConfig(), r.dialPort(), r.appPort(), entries, List.of());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> FixtureNormaliser.normalise(pair, bad));
        assertTrue(e.getMessage().contains("unmasked"), e.getMessage());
    }

    @Test
    void proxyAddressesBecomePlaceholdersAndTheBoundPortIsNotCompared() throws IOException {
        RecordedPair pair = PAIRS.get("socks5-gost-gost-auth");
        Recording r = recording(pair.key());
        FixtureNormaliser.Fixtures f = FixtureNormaliser.normalise(pair, r);
        String server = f.server().toString();
        String client = f.client().toString();
        String port = String.format("%04x", r.appPort());
        assertTrue(server.contains("${app.ip.hex}${app.port.hex}"), server);
        assertFalse(server.contains("7f000001" + port), server);
        assertTrue(server.contains("???????? ????"), server);
        // the client role names the fixed destination 127.0.0.1:9000 (0x2328)
        assertTrue(client.contains("\"destination\":\"127.0.0.1:9000\""), client);
        assertTrue(client.contains("7f0000012328"), client);
        assertTrue(client.contains("${bound}"), client);
    }

    @Test
    void vlessInsideATransportGetsTheFixedDestinationPort() throws IOException {
        RecordedPair pair = PAIRS.get("ws-singbox-singbox-vless_ed_header");
        Recording r = recording(pair.key());
        String all = FixtureNormaliser.normalise(pair, r).server().toString();
        String uuid = Matrix.VLESS_ID.replace("-", "");
        // VLESS request: version 0, the user id, no addons, command 1, port 9000, IPv4 127.0.0.1
        assertTrue(all.contains("00" + uuid + "0001" + "2328" + "01" + "7f000001"), all);
        assertFalse(all.contains(HexFormat.of().formatHex(new byte[] {(byte) (r.appPort() >> 8),
            (byte) r.appPort(), 1, 127, 0, 0, 1})), all);
    }
}
