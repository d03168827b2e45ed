package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.TlsClientOptions;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every path rule of the peer specs (Xray config_test.go cases, sing-box escaping, gost's rewrite), and options. */
class GrpcPathsTest {

    @Test
    void gunNormalServiceNames() {
        assertEquals("/gunsvc/Tun", GrpcProtocol.gunClientPath("gunsvc", false, true));
        assertEquals("/gunsvc/TunMulti", GrpcProtocol.gunClientPath("gunsvc", true, true));
        assertEquals("//Tun", GrpcProtocol.gunClientPath("", false, true));
        assertEquals("/a%2Fb/Tun", GrpcProtocol.gunClientPath("a/b", false, true));
        assertEquals("/hello%2Fworld%21/Tun", GrpcProtocol.gunClientPath("hello/world!", false, true));
        assertEquals("/a%3Bb%2Cc$&+:=@-_.~/Tun", GrpcProtocol.gunClientPath("a;b,c$&+:=@-_.~", false, true));
        assertEquals("/%C3%A9%20x%3F/Tun", GrpcProtocol.gunClientPath("é x?", false, true));
    }

    @Test
    void xrayCustomPaths() {
        assertEquals("/my/sample/path1", GrpcProtocol.gunClientPath("/my/sample/path1", false, true));
        assertEquals("/my/sample/path1", GrpcProtocol.gunClientPath("/my/sample/path1", true, true));
        assertArrayEquals(new String[] {"/my/sample/path/tun_service", "/my/sample/path/multi_service"},
                GrpcProtocol.gunServerPaths("/my/sample/path/tun_service|multi_service", true));
        assertArrayEquals(new String[] {"/hello%20/world%21/a", "/hello%20/world%21/b"},
                GrpcProtocol.gunServerPaths("/hello /world!/a|b", true));
        assertEquals("/m%20y/sa%20%21mple/pa%5Cth/tun%5C_serv%21ice",
                GrpcProtocol.gunClientPath("/m y/sa !mple/pa\\th/tun\\_serv!ice", false, true));
        assertEquals("/m%20y/sa%20%21mple/pa%5Cth/mu%25lti%5C_serv%21ice",
                GrpcProtocol.gunServerPaths("/m y/sa !mple/pa\\th/mu%lti\\_serv!ice", true)[1]);
        // Without '|' the server serves one path for both.
        assertArrayEquals(new String[] {"/a/b", "/a/b"}, GrpcProtocol.gunServerPaths("/a/b", true));
        // A single segment: empty service, as Xray's lastIndex < 1 rule.
        assertEquals("//x", GrpcProtocol.gunClientPath("/x", false, true));
    }

    @Test
    void singBoxHasNoCustomPathSyntax() {
        assertEquals("/%2Fgrpc%2Fmain/Tun", GrpcProtocol.gunClientPath("/grpc/main", false, false));
        assertArrayEquals(new String[] {"/%2Fgrpc%2Fmain/Tun", "/%2Fgrpc%2Fmain/TunMulti"},
                GrpcProtocol.gunServerPaths("/grpc/main", false));
    }

    @Test
    void gostPathRewrite() {
        assertEquals("/GostTunel/Tunnel", GrpcProtocol.gostPath(""));
        assertEquals("/GostTunel/Tunnel", GrpcProtocol.gostPath(null));
        assertEquals("/GostTunel/Tunnel", GrpcProtocol.gostPath("/GostTunel/Tunnel"));
        assertEquals("/foo/Tunnel", GrpcProtocol.gostPath("/foo"));
        assertEquals("/foo/Tunnel", GrpcProtocol.gostPath("foo/"));
        assertEquals("/a/b-c", GrpcProtocol.gostPath("/a/b/c"));
        assertEquals("/a/b-c-d", GrpcProtocol.gostPath("//a/b/c/d//"));
        assertEquals("/GostTunel/Tunnel", GrpcProtocol.gostPath("///"));
    }

    @Test
    void clientPathPerFlavour() {
        assertEquals("//Tun", GrpcOptions.defaults().clientPath());
        assertEquals("/GostTunel/Tunnel",
                GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).build().clientPath());
        assertEquals("/x/Tunnel", GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).gostPath("x")
                .build().clientPath());
    }

    @Test
    void authorityDefaultsFollowEachPeer() {
        InetSocketAddress ip = InetSocketAddress.createUnresolved("127.0.0.1", 8443);
        InetSocketAddress name = InetSocketAddress.createUnresolved("example.com", 8443);
        GrpcOptions gun = GrpcOptions.defaults();
        GrpcOptions gost = GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).build();
        TlsClientOptions sni = TlsClientOptions.builder().serverName("front.example").build();
        // Xray: authority; TLS serverName; destination domain without port; else host:port.
        assertEquals("127.0.0.1:8443", GrpcDialer.authority(DialerConfig.of(ip), gun));
        assertEquals("example.com", GrpcDialer.authority(DialerConfig.of(name), gun));
        assertEquals("front.example", GrpcDialer.authority(DialerConfig.of(ip, sni), gun));
        assertEquals("x.y", GrpcDialer.authority(DialerConfig.of(ip),
                gun.toBuilder().authority("x.y").build()));
        // gost: the node host without port.
        assertEquals("127.0.0.1", GrpcDialer.authority(DialerConfig.of(ip), gost));
        assertEquals("example.com", GrpcDialer.authority(DialerConfig.of(name, sni), gost));
        assertEquals("[::1]:1", GrpcDialer.authority(DialerConfig.of(InetSocketAddress.createUnresolved("::1", 1)),
                gun));
    }

    @Test
    void userAgentDefaults() {
        assertTrue(GrpcOptions.defaults().effectiveUserAgent().startsWith("Mozilla/5.0"));
        assertEquals("grpc-go/1.67.1",
                GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).build().effectiveUserAgent());
        assertEquals("", GrpcOptions.builder().userAgent("").build().effectiveUserAgent());
    }

    @Test
    void optionsAreValidated() {
        assertThrows(IllegalArgumentException.class,
                () -> GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).multi(true).build());
        assertThrows(IllegalArgumentException.class, () -> GrpcOptions.builder().scheme("ftp").build());
        assertThrows(IllegalArgumentException.class, () -> GrpcOptions.builder().maxMessagePayload(0).build());
        assertThrows(IllegalArgumentException.class,
                () -> GrpcOptions.builder().maxMessagePayload(4 * 1024 * 1024).build());
        GrpcOptions.builder().maxMessagePayload(GrpcOptions.MAX_MESSAGE_PAYLOAD).build();
    }

    @Test
    void providerParsesGostStyleParameters() {
        GrpcTransportProvider p = new GrpcTransportProvider();
        GrpcOptions o = p.parse(Map.of("flavour", "gost", "path", "/a/b/c", "host", "h.example",
                "keepalive.time", "30s", "keepalive.minTime", "10s"));
        assertEquals(GrpcOptions.Flavour.GOST, o.flavour());
        assertEquals("/a/b-c", o.clientPath());
        assertEquals("h.example", o.authority());
        assertEquals(java.time.Duration.ofSeconds(30), o.h2().idleTimeout());
        assertEquals(java.time.Duration.ofSeconds(10), o.permitKeepaliveTime());
        GrpcOptions x = p.parse(Map.of("serviceName", "gunsvc", "multiMode", "true", "serve", "gun,gost"));
        assertEquals("/gunsvc/TunMulti", x.clientPath());
        assertEquals(3, x.serverRoutes().size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> p.parse(Map.of("serviceNam", "x")));
        assertTrue(e.getMessage().contains("serviceNam"));
        assertThrows(IllegalArgumentException.class, () -> p.parse(Map.of("flavour", "v2")));
        assertEquals(GrpcOptions.defaults(), p.parse(Map.of()));
    }
}
