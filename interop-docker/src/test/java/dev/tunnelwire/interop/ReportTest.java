package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tunnelwire.interop.Cell.Direction;
import dev.tunnelwire.interop.Cell.State;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's machine-readable shape (scripts/report.sh and CI read it) and the transcript rendering. */
class ReportTest {

    private static CellResult result(Cell cell, State state, String reason) {
        CellResult r = new CellResult(new CellDef(cell, "gost-server", (role, p) -> { },
                OurSide.raw("tcp", Map.of()), null, null, null));
        r.state = state;
        r.reason = reason;
        r.bytes = 16 << 20;
        r.millis = 1234;
        r.megabytesPerSecond = 56.7;
        return r;
    }

    @Test
    void jsonListsEveryCellWithTheRequiredFields(@TempDir Path dir) throws Exception {
        CellResult pass = result(new Cell("gost", "tcp", "forward", Direction.OUTBOUND, false), State.PASS, "");
        CellResult fail = result(new Cell("gost", "tcp", "forward", Direction.INBOUND, true), State.FAIL, "boom <x>");
        fail.transcript = "connection #1: ...";
        Report report = new Report(Instant.EPOCH, 5000, 1000, "abc", "docker", "docker engine",
                List.of(new Report.PeerInfo("gost", "3.2.6", "/bin/gost", "stamp")), List.of(pass, fail));
        report.write(dir);

        JsonNode root = Role.JSON.readTree(dir.resolve("report.json").toFile());
        assertEquals("abc", root.get("gitRevision").asText());
        assertEquals("3.2.6", root.get("peers").get("gost").get("version").asText());
        assertEquals(1, root.get("counts").get("pass").asInt());
        assertEquals(1, root.get("counts").get("fail").asInt());
        assertEquals(0, root.get("counts").get("known-peer-bug").asInt());
        assertEquals(2, root.get("cells").size());
        for (JsonNode c : root.get("cells")) {
            for (String field : List.of("peer", "transport", "variant", "direction", "tls", "state", "reason",
                    "bytes", "millis")) {
                assertTrue(c.has(field), field + " missing in " + c);
            }
        }
        JsonNode f = root.get("cells").get(1);
        assertEquals("inbound", f.get("direction").asText());
        assertTrue(f.get("tls").asBoolean());
        assertEquals("fail", f.get("state").asText());
        assertEquals("connection #1: ...", f.get("transcript").asText());

        String html = Files.readString(dir.resolve("index.html"), StandardCharsets.UTF_8);
        assertTrue(html.contains("<td class=\"pass\">"));
        assertTrue(html.contains("href=\"#gost-tcp-forward-inbound-tls\""));
        assertTrue(html.contains("boom &lt;x&gt;"));
        assertFalse(html.contains("boom <x>"));
    }

    @Test
    void transcriptShowsBytesAndEventsInOrder() {
        Transcript t = new Transcript(1);
        ByteBuf b = Unpooled.copiedBuffer("GET / HTTP/1.1\r\n", StandardCharsets.US_ASCII);
        try {
            t.bytes(Transcript.Dir.TO_SERVER, b, 8);
            t.bytes(Transcript.Dir.TO_SERVER, b, 8);
            assertEquals(0, b.readerIndex());
        } finally {
            b.release();
        }
        t.event(Transcript.Dir.TO_CLIENT, "connection closed");
        String text = t.render();
        assertTrue(text.contains("32 bytes client → server"), text);
        assertTrue(text.contains("|GET / HT|"), text);
        assertTrue(text.indexOf("8 bytes") < text.indexOf("connection closed"), text);
        assertEquals(1, text.split("bytes\n", -1).length - 1, "the second chunk is beyond the capture limit");
    }
}
