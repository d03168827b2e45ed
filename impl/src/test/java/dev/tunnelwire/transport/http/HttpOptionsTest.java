package dev.tunnelwire.transport.http;

import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.internal.h2.H2Settings;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpOptionsTest {

    @Test
    void defaults() {
        HttpOptions o = HttpOptions.defaults();
        assertEquals(List.of(), o.hosts());
        assertEquals("/", o.path());
        assertEquals("", o.method());
        assertEquals("PUT", o.clientMethod());
        assertEquals(Map.of(), o.headers());
        assertEquals(H2Settings.defaults(), o.h2());
        assertTrue(o.h2().streamWindow() >= 4 * 1024 * 1024);
        assertTrue(o.h2().connectionWindow() > o.h2().streamWindow());
        assertEquals(Duration.ZERO, o.idleTimeout(), "no pings unless asked for");
        assertEquals(Duration.ofSeconds(15), o.pingTimeout());
        assertEquals(Duration.ofSeconds(15), o.handshakeTimeout());
        assertFalse(o.h2cPriorKnowledge());
        assertFalse(o.trustXForwardedFor());
    }

    @Test
    void pathGetsALeadingSlashAndEmptyHostsAreDropped() {
        HttpOptions o = HttpOptions.builder().path("vless").hosts(" a.example ", "").build();
        assertEquals("/vless", o.path());
        assertEquals(List.of("a.example"), o.hosts());
    }

    @Test
    void invalidValuesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.builder().method("P UT").build());
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.builder().header("Bad Name", "v").build());
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.builder().header("X", "a\r\nb").build());
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.builder().header("Content-Length", "1")
                .build());
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.builder().path("/%zz").build());
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.builder().handshakeTimeout(Duration.ZERO)
                .build());
    }

    @Test
    void idleAndPingTimeoutOverrideTheH2Settings() {
        HttpOptions o = HttpOptions.builder().h2(H2Settings.builder().streamWindow(1 << 20).build())
                .idleTimeout(Duration.ofSeconds(30)).pingTimeout(Duration.ofSeconds(5)).build();
        assertEquals(1 << 20, o.h2().streamWindow());
        assertEquals(Duration.ofSeconds(30), o.h2().idleTimeout());
        assertEquals(Duration.ofSeconds(5), o.h2().pingTimeout());
        assertEquals(o, o.toBuilder().build());
    }

    @Test
    void providerParsesGostStyleParameters() {
        HttpOptions o = new HttpTransportProvider().parse(Map.of(
                "host", "a.example, b.example", "path", "/h", "method", "POST",
                "header.X-Custom", "v1,v2", "idle_timeout", "15s", "ping_timeout", "0",
                "h2c", "true", "streamWindow", "1048576", "trustXForwardedFor", "yes"));
        assertEquals(List.of("a.example", "b.example"), o.hosts());
        assertEquals("/h", o.path());
        assertEquals("POST", o.method());
        assertEquals(Map.of("X-Custom", List.of("v1", "v2")), o.headers());
        assertEquals(Duration.ofSeconds(15), o.idleTimeout());
        assertEquals(Duration.ofSeconds(H2Settings.DEFAULT_PING_TIMEOUT_SECONDS), o.pingTimeout(),
                "0 means the default, as in sing-box");
        assertTrue(o.h2cPriorKnowledge());
        assertEquals(1048576, o.h2().streamWindow());
        assertTrue(o.trustXForwardedFor());
    }

    @Test
    void providerRejectsUnknownKeys() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new HttpTransportProvider().parse(Map.of("pth", "/x")));
        assertTrue(e.getMessage().contains("pth"));
    }

    @Test
    void registeredAsV2rayhttpWithoutClaimingGostNames() {
        TransportRegistry r = TransportRegistry.defaultRegistry();
        assertInstanceOf(HttpTransportProvider.class, r.provider("v2rayhttp"));
        assertFalse(r.contains("http"), "gost's http is a proxy protocol, not this transport");
        assertFalse(r.provider("h2") instanceof HttpTransportProvider, "gost's h2 is its own HTTP/2 tunnel");
    }
}
