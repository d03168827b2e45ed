package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tunnelwire.interop.ConformanceReport.Cell;
import dev.tunnelwire.interop.ConformanceReport.Outcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The conformance section of the interop report: counts per target and transport, the table, failure details. */
class ConformanceReportTest {

    @AfterEach
    void unpublish() {
        ConformanceReport.publish(null);
    }

    @Test
    void reportEmbedsCountsResultsAndDetails(@TempDir Path dir) throws Exception {
        ConformanceReport.publish(new ConformanceReport(List.of(
                new Cell("ws.server.handshake_basic", "ws", "tunnelwire", Outcome.PASS, "", "", "", "", 5),
                new Cell("ws.server.handshake_basic", "ws", "gost", Outcome.PASS, "", "", "", "gost ws", 7),
                new Cell("ws.server.reject_version_8", "ws", "gost", Outcome.DEVIATION, "400 <not 426>",
                        "wire log <x>", "gost log", "gost ws", 9),
                new Cell("tcp.server.echo_both_ways", "tcp", "xray", Outcome.FAIL, "FAIL at step 2", "text", "",
                        "xray tcp", 3),
                new Cell("ws.server.handshake_basic", "ws", "sing-box", Outcome.NOT_APPLICABLE,
                        "transport only under VLESS", "", "", "", 0)), 1234, ""));
        new Report(Instant.EPOCH, 1, 1, "abc", "process", "processes", List.of(), List.of()).write(dir);

        JsonNode conf = Role.JSON.readTree(dir.resolve("report.json").toFile()).get("conformance");
        assertEquals(3, conf.get("cases").asInt());
        JsonNode gost = conf.get("targets").get("gost");
        assertEquals(1, gost.get("total").get("pass").asInt());
        assertEquals(1, gost.get("total").get("deviation").asInt());
        assertEquals(2, gost.get("perTransport").get("ws").get("pass").asInt()
                + gost.get("perTransport").get("ws").get("deviation").asInt());
        assertEquals(1, conf.get("targets").get("xray").get("total").get("fail").asInt());
        assertEquals(1, conf.get("targets").get("sing-box").get("total").get("n/a").asInt());
        assertEquals(5, conf.get("results").size());
        JsonNode dev = conf.get("results").get(2);
        assertEquals("deviation", dev.get("outcome").asText());
        assertEquals("wire log <x>", dev.get("text").asText());
        assertEquals("gost log", dev.get("peerLog").asText());

        String html = Files.readString(dir.resolve("index.html"), StandardCharsets.UTF_8);
        assertTrue(html.contains("id=\"conformance\""));
        assertTrue(html.contains("href=\"#conf-gost-ws-server-reject_version_8\""));
        assertTrue(html.contains("id=\"conf-xray-tcp-server-echo_both_ways\""));
        assertTrue(html.contains("wire log &lt;x&gt;"));
        assertFalse(html.contains("wire log <x>"));
        assertTrue(html.contains("transport only under VLESS"));
    }

    @Test
    void summaryLinesCountEveryTarget() {
        ConformanceReport r = new ConformanceReport(List.of(
                new Cell("a.server.x", "a", "xray", Outcome.PASS, "", "", "", "", 1),
                new Cell("a.server.y", "a", "xray", Outcome.NOT_APPLICABLE, "no", "", "", "", 1)), 1, "");
        assertTrue(r.summaryLines().contains("xray: 2 cases: 1 pass, 0 fail, 0 deviation, 1 n/a"),
                r.summaryLines().toString());
        assertTrue(r.summaryLines().contains("tunnelwire: 0 cases: 0 pass, 0 fail, 0 deviation, 0 n/a"));
    }
}
