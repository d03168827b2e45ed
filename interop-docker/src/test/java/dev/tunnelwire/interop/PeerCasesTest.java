package dev.tunnelwire.interop;

import dev.tunnelwire.conformance.Fixture;
import dev.tunnelwire.conformance.FixtureLoader;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The mapping of conformance cases to peer configurations (no peer runs here). */
class PeerCasesTest {

    private static final List<Fixture> ALL = FixtureLoader.loadFromClassPath();

    private static Fixture fixture(String id) {
        return ALL.stream().filter(f -> f.id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void everyCaseIsMappedOrSaysWhyNot() {
        for (Fixture f : ALL) {
            for (String peer : PeerCases.PEERS) {
                PeerCases.Result r = PeerCases.map(f, peer);
                assertTrue(r.mapping() != null ^ r.notApplicable() != null, f.id() + " on " + peer);
                if (r.notApplicable() != null) {
                    assertFalse(r.notApplicable().isBlank(), f.id() + " on " + peer);
                }
            }
        }
    }

    @Test
    void clientCasesNeverShareAnInboundServerCasesWithEqualOptionsDo() {
        Map<String, String> keys = new HashMap<>();
        for (Fixture f : ALL) {
            PeerCases.Result r = PeerCases.map(f, "gost");
            if (r.mapping() != null && f.role() == Fixture.Role.CLIENT) {
                assertNull(keys.put(r.mapping().key(), f.id()), "shared client inbound: " + f.id());
            }
        }
        assertEquals(PeerCases.map(fixture("ws.server.handshake_basic"), "gost").mapping().key(),
                PeerCases.map(fixture("ws.server.ping_answered"), "gost").mapping().key());
    }

    @Test
    void gostWsServerForwardsToTheApplication() {
        Role.Gost g = new Role.Gost("t", "gost");
        PeerCases.map(fixture("ws.server.handshake_basic"), "gost").mapping().configure()
                .accept(g, new PeerCases.Ports(1000, 2000));
        String json = g.services.get(0).toString();
        assertTrue(json.contains("\"type\":\"ws\"") && json.contains("\"path\":\"/ws\""), json);
        assertTrue(json.contains("\"forward\"") && json.contains("127.0.0.1:2000"), json);
    }

    @Test
    void xrayHttpUpgradeClientUsesGoRequestExceptInTheDocumentingCase() {
        Role.Xray x = new Role.Xray("t", "xray");
        PeerCases.map(fixture("httpupgrade.client.raw_stream_both_ways"), "xray").mapping().configure()
                .accept(x, new PeerCases.Ports(1000, 2000));
        String out = x.outbounds.get(1).toString();
        assertTrue(out.contains("\"User-Agent\":\"golang\"") && out.contains("127.0.0.1:2000"), out);
        Role.Xray y = new Role.Xray("t", "xray");
        PeerCases.map(fixture(XrayCases.XRAY_HU_DEFAULT_HEADERS_CASE), "xray").mapping().configure()
                .accept(y, new PeerCases.Ports(1000, 2000));
        assertFalse(y.outbounds.get(1).toString().contains("golang"));
    }

    @Test
    void pooledClientsAndTheCrashingCaseRunInAProcessOfTheirOwn() {
        assertNotNull(PeerCases.map(fixture("grpc.client.request_headers"), "gost").mapping().perCase());
        assertNotNull(PeerCases.map(fixture(XrayCases.XRAY_HU_PANIC_CASE), "xray").mapping().perCase());
        assertNull(PeerCases.map(fixture("ws.client.handshake_basic"), "gost").mapping().perCase());
    }

    @Test
    void singBoxTransportsAreNotApplicable() {
        assertTrue(PeerCases.map(fixture("ws.server.handshake_basic"), "singbox").notApplicable()
                .contains("VLESS"));
    }
}
