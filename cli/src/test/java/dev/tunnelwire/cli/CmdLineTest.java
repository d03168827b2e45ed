package dev.tunnelwire.cli;

import dev.tunnelwire.TransportRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** gost's command-line grammar and defaults (peer-gost.md sections 10 and 11). */
class CmdLineTest {

    private final Schemes schemes = new Schemes(TransportRegistry.defaultRegistry());
    private final CmdLine cmd = new CmdLine(schemes);

    private Specs.Service svc(String url) {
        return cmd.service("service-0", GostUrl.parse(url), null);
    }

    private Specs.Node node(String url) {
        return cmd.node("node-0", GostUrl.parse(url));
    }

    @Test
    void urlParts() {
        GostUrl u = GostUrl.parse("relay+ws://u%40x:p%3Ass@127.0.0.1:8080/10.0.0.1:22,example.com:80?path=/ws&nodelay=true");
        assertEquals("relay", u.first());
        assertEquals("ws", u.second());
        assertEquals("u@x", u.user());
        assertEquals("p:ss", u.password());
        assertEquals("127.0.0.1", u.host());
        assertEquals(8080, u.port());
        assertEquals(List.of("10.0.0.1:22", "example.com:80"), u.targets());
        assertEquals(Map.of("path", "/ws", "nodelay", "true"), u.params());
    }

    @Test
    void noSchemeOrLeadingColonMeansAuto() {
        assertEquals("auto", GostUrl.parse(":1080").first());
        Specs.Service s = svc(":1080");
        assertEquals("auto", s.handler());
        assertEquals("tcp", s.transport());
        assertEquals("", s.host());
    }

    @Test
    void authParameterOverridesUserInfo() {
        GostUrl u = GostUrl.parse("http://a:b@127.0.0.1:8080?auth=dXNlcjpwYXNz");
        assertEquals("user", u.user());
        assertEquals("pass", u.password());
        assertNull(u.param("auth"));
    }

    @Test
    void ipv6Hosts() {
        GostUrl u = GostUrl.parse("socks5://[::1]:1080");
        assertEquals("::1", u.host());
        assertEquals("[::1]:1080", u.address());
    }

    @ParameterizedTest(name = "-L {0}")
    @CsvSource({
            // examples of peer-gost.md 11.5 (servers) and 11.1 defaults whose transports exist here
            "'http://u:p@127.0.0.1:8080', http, tcp, false",
            "'https://u:p@127.0.0.1:8443', http, tcp, true",
            "'http+pht://127.0.0.1:8080', http, pht, false",
            "'http+phts://127.0.0.1:8443', http, pht, true",
            "'relay://u:p@127.0.0.1:8080?nodelay=true', relay, tcp, false",
            "'socks5://u:p@127.0.0.1:1081', socks5, tcp, false",
            "'pht://127.0.0.1:8080', auto, pht, false",
            "'tcp://127.0.0.1:2222/127.0.0.1:9000', forward, tcp, false",
            "'pht://127.0.0.1:8080/127.0.0.1:9000', forward, pht, false",
            "'relay+tls://127.0.0.1:8443/127.0.0.1:9000', relay, tcp, true",
            "'tls://127.0.0.1:8443/127.0.0.1:9000', forward, tcp, true",
            "'http2://u:p@127.0.0.1:8443', http2, http2, true",
            "'http+h2://127.0.0.1:8443', http, h2, true",
            "'http+h2c://127.0.0.1:8080', http, h2c, false",
            "'http+ws://127.0.0.1:8080?path=/ws', http, ws, false",
            "'http+wss://127.0.0.1:8443?path=/ws', http, ws, true",
            "'http+grpc://127.0.0.1:8443', http, grpc, true",
            "'http+grpc://127.0.0.1:8080?grpcInsecure=true', http, grpc, false",
            "'relay+ws://u:p@127.0.0.1:8080', relay, ws, false",
            "'ws://127.0.0.1:8080/127.0.0.1:9000?path=/ws', forward, ws, false",
            "'ws://127.0.0.1:8080', auto, ws, false",
            "'grpc://127.0.0.1:8443', auto, grpc, true",
            "'h2c://127.0.0.1:8080/127.0.0.1:9000', forward, h2c, false",
    })
    void serviceDefaults(String url, String handler, String transport, boolean tls) {
        Specs.Service s = svc(url);
        assertEquals(handler, s.handler());
        assertEquals(transport, s.transport());
        assertEquals(tls, s.tls() != null);
    }

    @ParameterizedTest(name = "-F {0}")
    @CsvSource({
            "'http://u:p@127.0.0.1:8080', http, tcp, false",
            "'https://u:p@127.0.0.1:8443', http, tcp, true",
            "'relay://u:p@127.0.0.1:8080?nodelay=true', relay, tcp, false",
            "'socks5://u:p@127.0.0.1:1081', socks5, tcp, false",
            "'forward+pht://127.0.0.1:8080', forward, pht, false",
            "'http+phts://127.0.0.1:8443', http, pht, true",
            "'pht://127.0.0.1:8080', http, pht, false",
            "'tls://127.0.0.1:8443', http, tcp, true",
            "'http2://u:p@127.0.0.1:8443', http2, http2, true",
            "'http+h2://127.0.0.1:8443', http, h2, true",
            "'h2://127.0.0.1:8443', http, h2, true",
            "'ws://127.0.0.1:8080', http, ws, false",
            "'http+wss://127.0.0.1:8443?path=/ws', http, ws, true",
            "'grpc://127.0.0.1:8443', http, grpc, true",
            "'http+grpc://127.0.0.1:8080?grpcInsecure=true', http, grpc, false",
            "'relay+ws://u:p@127.0.0.1:8080', relay, ws, false",
            "'forward+h2c://127.0.0.1:8080', forward, h2c, false",
    })
    void nodeDefaults(String url, String connector, String transport, boolean tls) {
        Specs.Node n = node(url);
        assertEquals(connector, n.connector());
        assertEquals(transport, n.transport());
        assertEquals(tls, n.tls() != null);
        if (n.tls() != null) {
            assertTrue(!n.tls().secure(), "gost clients do not verify unless secure=true");
        }
    }

    @Test
    void parametersGoWhereTheyBelong() {
        Specs.Service s = svc("relay+pht://127.0.0.1:8080?nodelay=true&authorizePath=/a&listener.pullPath=/p"
                + "&handler.proxyAgent=x");
        assertEquals(Map.of("nodelay", "true", "proxyAgent", "x"), s.handlerParams());
        assertEquals(Map.of("authorizePath", "/a", "pullPath", "/p"), s.listenerParams());
        Specs.Node n = node("relay+phts://127.0.0.1:8443?secure=true&serverName=localhost&nodelay=true");
        assertTrue(n.tls().secure());
        assertEquals("localhost", n.tls().serverName());
        assertEquals(Map.of("nodelay", "true"), n.connectorParams());
        assertTrue(n.dialerParams().isEmpty());
    }

    @Test
    void tlsFilesOnServices() {
        Specs.Service s = svc("http+phts://127.0.0.1:8443?cert=srv.crt&key=srv.key");
        assertEquals("srv.crt", s.tls().certFile());
        assertEquals("srv.key", s.tls().keyFile());
        assertThrows(IllegalArgumentException.class, () -> svc("http://127.0.0.1:8080?cert=a.pem"),
                "TLS options on a cleartext listener are an error, not ignored");
    }

    @Test
    void unknownThingsAreErrorsThatNameThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> svc("bogus://127.0.0.1:1"));
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> node("bogus+tcp://127.0.0.1:1"));
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GostUrl.parse("http://127.0.0.1"));
        assertTrue(e.getMessage().contains("port"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> node("http://127.0.0.1:1/10.0.0.1:2"));
    }

    @Test
    void gostsGrpcIsTheGostFlavourOnTheCommandLine() {
        assertEquals("gost", svc("relay+grpc://127.0.0.1:8443").listenerParams().get("flavour"));
        assertEquals("gun", svc("relay+grpc://127.0.0.1:8443?flavour=gun").listenerParams().get("flavour"));
        assertEquals("gost", node("relay+grpc://127.0.0.1:8443").dialerParams().get("flavour"));
    }

    @Test
    void transportsNotImplementedAreNamedErrors() {
        for (String s : List.of("http+mws://127.0.0.1:8080", "http+h3://127.0.0.1:8443", "http+wt://127.0.0.1:8443")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> svc(s), s);
            assertTrue(e.getMessage().contains("unknown") || e.getMessage().contains("not available"), e.getMessage());
        }
    }

    @Test
    void buildMakesOneChainOfAllNodes() {
        Specs.Config c = cmd.build(List.of("http://127.0.0.1:1080"),
                List.of("socks5://127.0.0.1:1081", "relay+phts://127.0.0.1:8443"));
        assertEquals(1, c.chains().size());
        assertEquals(2, c.chains().get(0).hops().size());
        assertEquals("chain-0", c.services().get(0).chain());
        assertNotNull(c.chains().get(0).hops().get(1).tls());
    }
}
