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

    // ---------------------------------------------------------------- peer-varying values

    /** The recorded Xray ws pair with the client's first head rewritten, as if recorded another day or machine. */
    private static Recording rewrittenHead(String key, java.util.function.UnaryOperator<String> head)
            throws IOException {
        Recording r = recording(key);
        List<Transcript.Entry> entries = new ArrayList<>();
        boolean done = false;
        for (Transcript.Entry e : r.entries()) {
            byte[] d = e.data();
            if (!done && d != null && e.dir() == Transcript.Dir.TO_SERVER) {
                String text = new String(d, java.nio.charset.StandardCharsets.ISO_8859_1);
                int end = text.indexOf("\r\n\r\n");
                assertTrue(end > 0, "the first client read holds the whole head");
                String changed = head.apply(text.substring(0, end + 4));
                assertFalse(changed.equals(text.substring(0, end + 4)), "the rewrite changed nothing");
                d = (changed + text.substring(end + 4)).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
                done = true;
            }
            entries.add(new Transcript.Entry(e.dir(), e.micros(), d, e.event()));
        }
        return new Recording(r.pair(), r.clientVersion(), r.serverVersion(), r.clientConfig(), r.serverConfig(),
                r.dialPort(), r.appPort(), entries, r.conns());
    }

    /** Xray's Chrome imitation of another month (and CPU): another major, GREASE brand and brand order. */
    private static String anotherDay(String head) {
        return head.replaceAll("Chrome/[0-9]+\\.0\\.0\\.0", "Chrome/163.0.0.0")
                .replaceAll("(?m)^Sec-CH-UA: [^\r\n]*", java.util.regex.Matcher.quoteReplacement(
                        "Sec-CH-UA: \"Google Chrome\";v=\"163\", \"Not)A;Brand\";v=\"99\", \"Chromium\";v=\"163\""));
    }

    private static List<String> diffs(RecordedPair pair, Recording r) throws IOException {
        FixtureNormaliser.Fixtures f = FixtureNormaliser.normalise(pair, r);
        List<String> out = new ArrayList<>();
        for (ObjectNode fx : List.of(f.server(), f.client())) {
            String d = RecordedFixtureFiles.diff(fx);
            if (d != null) {
                out.add(d);
            }
        }
        return out;
    }

    @Test
    void xraysBrowserHeadersAreWrittenAsRules() throws IOException {
        RecordedPair pair = PAIRS.get("ws-xray-xray-tunnel");
        ObjectNode s = FixtureNormaliser.normalise(pair, recording(pair.key())).server();
        int rules = 0;
        for (JsonNode h : s.at("/steps/0/http/headers")) {
            String name = h.get(0).asText();
            if (name.equalsIgnoreCase("User-Agent") || name.equalsIgnoreCase("Sec-CH-UA")) {
                assertTrue(h.get(1).has("match") && h.get(1).has("example") && h.get(1).has("why"), h.toString());
                rules++;
            } else {
                assertTrue(h.get(1).isTextual(), "only the peer-varying values are rules: " + h);
            }
        }
        assertEquals(2, rules);
    }

    @Test
    void anotherDaysChromeVersionAndBrandOrderCompareEqual() throws IOException {
        for (String key : List.of("ws-xray-xray-tunnel", "ws-xray-gost-tunnel_to_gost", "ws-xray-xray-vless_ed2048",
                "httpupgrade-xray-xray-tunnel")) {
            RecordedPair pair = PAIRS.get(key);
            assertEquals(List.of(), diffs(pair, rewrittenHead(key, FixtureNormaliserTest::anotherDay)), key);
        }
    }

    @Test
    void anotherGrpcGoVersionComparesEqual() throws IOException {
        RecordedPair pair = PAIRS.get("grpc-gost-gost-forward");
        Recording r = recording(pair.key());
        FixtureNormaliser.Fixtures f = FixtureNormaliser.normalise(pair, r);
        // the user-agent is a rule in the committed fixture; a fresh one with another version reduces to the same
        ObjectNode fresh = f.server().deepCopy();
        boolean found = false;
        for (JsonNode step : fresh.path("steps")) {
            for (JsonNode h : step.path("op").asText().equals("send") ? step.path("h2").path("headers")
                    : com.fasterxml.jackson.databind.node.MissingNode.getInstance()) {
                if (h.get(0).asText().equalsIgnoreCase("user-agent")) {
                    assertTrue(h.get(1).has("match"), h.toString());
                    ((ObjectNode) h.get(1)).put("example", "grpc-go/1.99.0");
                    found = true;
                }
            }
        }
        assertTrue(found, "gost's gRPC client sends a grpc-go user-agent");
        assertNull(RecordedFixtureFiles.diff(fresh));
        // and a value that breaks the rule is a difference
        for (JsonNode step : fresh.path("steps")) {
            for (JsonNode h : step.path("op").asText().equals("send") ? step.path("h2").path("headers")
                    : com.fasterxml.jackson.databind.node.MissingNode.getInstance()) {
                if (h.get(0).asText().equalsIgnoreCase("user-agent")) {
                    ((ObjectNode) h.get(1)).put("example", "grpc-java/1.82.2");
                }
            }
        }
        assertTrue(RecordedFixtureFiles.diff(fresh) != null);
    }

    @Test
    void aRealDifferenceInTheHeadStillFails() throws IOException {
        RecordedPair pair = PAIRS.get("ws-xray-xray-tunnel");
        // a missing Upgrade header, a changed path, a browser header that is not Chrome's any more, a brand list
        // of another shape: each is a difference even on another day
        List<java.util.function.UnaryOperator<String>> changes = List.of(
                h -> h.replaceAll("(?m)^Upgrade: websocket\r\n", ""),
                h -> h.replaceFirst("GET /ws ", "GET /wx "),
                h -> h.replaceAll("(?m)^User-Agent: [^\r\n]*", "User-Agent: curl/8.5.0"),
                h -> h.replaceAll("(?m)^Sec-CH-UA: [^\r\n]*", java.util.regex.Matcher.quoteReplacement(
                        "Sec-CH-UA: \"Chromium\";v=\"163\"")),
                h -> h.replaceAll("(?m)^DNT: 1", "DNT: 0"));
        for (int i = 0; i < changes.size(); i++) {
            var change = changes.get(i);
            Recording r = rewrittenHead(pair.key(), h -> {
                String day = anotherDay(h);
                String changed = change.apply(day);
                assertFalse(changed.equals(day), "change " + changes.indexOf(change) + " changed nothing");
                return changed;
            });
            assertFalse(diffs(pair, r).isEmpty(), "change " + i + " compared equal");
        }
    }

    @Test
    void anExtraDataFrameStillFails() throws IOException {
        RecordedPair pair = PAIRS.get("ws-xray-xray-tunnel");
        Recording r = recording(pair.key());
        List<Transcript.Entry> entries = new ArrayList<>();
        boolean headSeen = false;
        boolean added = false;
        for (Transcript.Entry e : r.entries()) {
            if (e.data() != null && e.dir() == Transcript.Dir.TO_SERVER && headSeen && !added) {
                // a masked binary frame "extra" before the client's first data frame
                byte[] payload = "extra".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                byte[] key = {1, 2, 3, 4};
                byte[] frame = new byte[6 + payload.length];
                frame[0] = (byte) 0x82;
                frame[1] = (byte) (0x80 | payload.length);
                System.arraycopy(key, 0, frame, 2, 4);
                for (int i = 0; i < payload.length; i++) {
                    frame[6 + i] = (byte) (payload[i] ^ key[i & 3]);
                }
                entries.add(new Transcript.Entry(e.dir(), e.micros(), frame, null));
                added = true;
            }
            if (e.data() != null && e.dir() == Transcript.Dir.TO_SERVER) {
                headSeen = true;
            }
            entries.add(e);
        }
        assertTrue(added);
        Recording extra = new Recording(r.pair(), r.clientVersion(), r.serverVersion(), r.clientConfig(),
                r.serverConfig(), r.dialPort(), r.appPort(), entries, r.conns());
        assertFalse(diffs(pair, extra).isEmpty(), "an extra data frame compared equal");
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
