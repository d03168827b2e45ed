package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine fails what it must fail: a suite that cannot fail proves nothing. */
class EngineSelfTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static ImplTarget target;

    @BeforeAll
    static void start() {
        target = new ImplTarget();
    }

    @AfterAll
    static void stop() {
        target.close();
    }

    private static CaseResult run(String json) throws Exception {
        Fixture f = FixtureLoader.parse(JSON.readTree(json), null, null, "inline");
        return new Engine().run(f, target);
    }

    @Test
    void wrongBytesFailWithExpectedAndActual() throws Exception {
        CaseResult r = run("""
                {"id":"tcp.server.self_wrong","transport":"tcp","role":"server","title":"t","source":{"type":"spec"},
                 "steps":[{"op":"expect_tunnel"},{"op":"app_write","data":"abc"},
                          {"op":"expect","bytes":"abd","note":"must be abd"}]}""");
        assertEquals(CaseResult.Status.FAIL, r.status(), r.failureText());
        assertEquals(2, r.step());
        assertEquals("must be abd", r.requirement());
        assertTrue(r.actual().contains("616263"), r.actual());
        assertTrue(r.wireLog().stream().anyMatch(e -> e.kind().equals("RO")), "wire log has the received octets");
    }

    @Test
    void aPeerVaryingValueIsSentAsItsExample() throws Exception {
        CaseResult r = run("""
                {"id":"tcp.server.self_varying","transport":"tcp","role":"server","title":"t","source":{"type":"spec"},
                 "steps":[{"op":"expect_tunnel"},
                          {"op":"send","bytes":{"match":"Chrome/[0-9]+","example":"Chrome/151","why":"the date"}},
                          {"op":"expect_deliver","data":"Chrome/151"}]}""");
        assertEquals(CaseResult.Status.PASS, r.status(), r.failureText());
    }

    @Test
    void aPeerVaryingValueWhoseExampleBreaksItsRuleIsAnError() throws Exception {
        CaseResult r = run("""
                {"id":"tcp.server.self_varying_bad","transport":"tcp","role":"server","title":"t","source":{"type":"spec"},
                 "steps":[{"op":"expect_tunnel"},{"op":"send","bytes":{"match":"Chrome/[0-9]+","example":"Firefox/140"}}]}""");
        assertEquals(CaseResult.Status.ERROR, r.status(), r.failureText());
    }

    @Test
    void aPeerVaryingValueMatchesByItsRuleNotItsExample() throws Exception {
        // the client under test sends User-Agent: Go-http-client/1.1; the rule decides, whatever the example says
        String fixture = """
                {"id":"httpupgrade.client.self_varying","transport":"httpupgrade","role":"client","title":"t",
                 "source":{"type":"spec"},"options":{"path":"/up","earlyData":"none"},"timeoutMs":2000,
                 "steps":[{"op":"app_open","data":"hello"},
                          {"op":"expect","http":{"method":"GET","target":"/up",
                           "headers":{"User-Agent":{"match":"%s","example":"Go-http-client/9.9"}}}}]}""";
        assertEquals(CaseResult.Status.PASS, run(fixture.formatted("Go-http-client/[0-9.]+")).status());
        CaseResult other = run(fixture.formatted("curl/[0-9.]+"));
        assertEquals(CaseResult.Status.FAIL, other.status(), other.failureText());
        assertTrue(other.actual().contains("does not follow the rule"), other.actual());
    }

    @Test
    void timeoutIsAnOutcome() throws Exception {
        CaseResult r = run("""
                {"id":"tcp.server.self_timeout","transport":"tcp","role":"server","title":"t","source":{"type":"spec"},
                 "timeoutMs":300,"steps":[{"op":"expect","bytes":"never"}]}""");
        assertEquals(CaseResult.Status.FAIL, r.status());
        assertTrue(r.actual().contains("timeout"), r.actual());
    }

    @Test
    void deliverMismatchFails() throws Exception {
        CaseResult r = run("""
                {"id":"tcp.server.self_deliver","transport":"tcp","role":"server","title":"t","source":{"type":"spec"},
                 "timeoutMs":500,"steps":[{"op":"send","bytes":"xyz"},{"op":"expect_deliver","data":"xyw"}]}""");
        assertEquals(CaseResult.Status.FAIL, r.status(), r.failureText());
    }

    @Test
    void closeExpectedButOpenFails() throws Exception {
        CaseResult r = run("""
                {"id":"tcp.server.self_close","transport":"tcp","role":"server","title":"t","source":{"type":"spec"},
                 "steps":[{"op":"expect_close","withinMs":300}]}""");
        assertEquals(CaseResult.Status.FAIL, r.status());
        assertTrue(r.actual().startsWith("still open"), r.actual());
    }

    @Test
    void undefinedPlaceholderIsAnError() throws Exception {
        CaseResult r = run("""
                {"id":"tcp.server.self_var","transport":"tcp","role":"server","title":"t","source":{"type":"spec"},
                 "steps":[{"op":"send","bytes":"${nope}"}]}""");
        assertEquals(CaseResult.Status.ERROR, r.status());
    }

    @Test
    void unknownTransportIsSkippedWithReason() throws Exception {
        CaseResult r = run("""
                {"id":"nosuch.server.x","transport":"nosuch","role":"server","title":"t","source":{"type":"spec"},
                 "steps":[{"op":"expect_tunnel"}]}""");
        assertEquals(CaseResult.Status.SKIPPED, r.status());
    }

    @Test
    void loaderRejectsBadFixtures(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertThrows(IllegalStateException.class, () -> FixtureLoader.load(dir.resolve("missing")));
        Files.createDirectories(dir.resolve("tcp"));
        Files.writeString(dir.resolve("tcp/tcp.server.a.json"), """
                {"id":"tcp.server.b","transport":"tcp","role":"server","title":"t","source":{"type":"spec"},
                 "steps":[{"op":"expect_tunnel"}]}""");
        assertThrows(IllegalArgumentException.class, () -> FixtureLoader.load(dir), "file name must match the id");
        Files.writeString(dir.resolve("tcp/tcp.server.a.json"), """
                {"id":"tcp.server.a","transport":"tcp","role":"server","title":"t","source":{"type":"spec"},
                 "steps":[{"op":"frobnicate"}]}""");
        assertThrows(IllegalArgumentException.class, () -> FixtureLoader.load(dir), "unknown op");
    }

    @Test
    void reportsAreWellFormed(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        CaseResult fail = run("""
                {"id":"tcp.server.self_report","transport":"tcp","role":"server","title":"t","source":{"type":"spec"},
                 "timeoutMs":200,"steps":[{"op":"expect","bytes":"<&\\""}]}""");
        Reports.write(java.util.List.of(fail), "tunnelwire-impl", dir);
        String xml = Files.readString(dir.resolve("TEST-conformance.xml"));
        javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(dir.resolve("TEST-conformance.xml").toFile());
        assertTrue(xml.contains("<testcase name=\"tcp.server.self_report\" classname=\"conformance.tcp.server\""), xml);
        assertTrue(xml.contains("<failure"), xml);
        assertTrue(Files.exists(dir.resolve("cases/tcp.server.self_report.json")));
        assertTrue(JSON.readTree(dir.resolve("index.json").toFile()).path("cases").has("tcp.server.self_report"));
    }
}
