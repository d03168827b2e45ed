package dev.tunnelwire.transport.httpupgrade;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Validation, defaults and Xray's {@code ?ed} handling of {@link HttpUpgradeOptions}, and the provider's keys. */
class HttpUpgradeOptionsTest {

    @Test
    void defaults() {
        HttpUpgradeOptions o = HttpUpgradeOptions.defaults();
        assertEquals("/", o.path());
        assertNull(o.host());
        assertEquals(Map.of(), o.headers());
        assertEquals(HttpUpgradeOptions.DEFAULT_USER_AGENT, o.userAgent());
        assertEquals(HttpUpgradeOptions.EarlyData.NONE, o.earlyData());
        assertEquals(HttpUpgradeOptions.DEFAULT_MAX_EARLY_DATA, o.maxEarlyData());
        assertEquals(HttpUpgradeOptions.RejectMode.STATUS, o.rejectMode());
        assertEquals(8192, o.maxRequestHeadBytes());
        assertEquals(Duration.ofSeconds(15), o.handshakeTimeout());
        assertEquals(false, o.trustXForwardedFor());
        assertNull(o.fallback());
        assertEquals("httpupgrade", o.transport());
        assertEquals(o, o.toBuilder().build());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "''           | /       | NONE",
        "hu           | /hu     | NONE",
        "/hu/         | /hu/    | NONE",
        "/hu?ed=2048  | /hu     | XRAY_ED",
        "/p?a=1&ed=2048 | /p?a=1 | XRAY_ED",
        "/p?ed=0      | /p      | NONE",
        "/p?ed=x      | /p      | NONE",
        "/p?a=1       | /p?a=1  | NONE",
    })
    void pathIsNormalisedAndXrayEdIsParsedOut(String path, String expected, String ed) {
        HttpUpgradeOptions o = HttpUpgradeOptions.builder().path(path).build();
        assertEquals(expected, o.path());
        assertEquals(HttpUpgradeOptions.EarlyData.valueOf(ed), o.earlyData());
    }

    @Test
    void anExplicitEarlyDataModeWinsOverEd() {
        HttpUpgradeOptions o = HttpUpgradeOptions.builder().path("/hu?ed=2048")
                .earlyData(HttpUpgradeOptions.EarlyData.NONE).build();
        assertEquals("/hu", o.path());
        assertEquals(HttpUpgradeOptions.EarlyData.NONE, o.earlyData());
    }

    @Test
    void headerSpellingAndOrderAreKept() {
        HttpUpgradeOptions o = HttpUpgradeOptions.builder().header("x-b", "1").header("WebSocket-Thing", "2").build();
        assertEquals(List.of("x-b", "WebSocket-Thing"), List.copyOf(o.headers().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> o.headers().put("a", "b"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Host", "host", "Connection", "UPGRADE", "Sec-WebSocket-Key", "sec-websocket-protocol",
        "Bad Name", "Bad:Name", ""})
    void reservedOrInvalidHeaderNamesAreRejected(String name) {
        assertThrows(IllegalArgumentException.class, () -> HttpUpgradeOptions.builder().header(name, "v").build());
    }

    @Test
    void invalidValuesAreRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> HttpUpgradeOptions.builder().header("X-A", "a\r\nInjected: 1").build());
        assertThrows(IllegalArgumentException.class, () -> HttpUpgradeOptions.builder().header("X-A", "1")
                .header("x-a", "2").build());
        assertThrows(IllegalArgumentException.class, () -> HttpUpgradeOptions.builder().path("/a b").build());
        assertThrows(IllegalArgumentException.class, () -> HttpUpgradeOptions.builder().host("h\r\nX: y").build());
        assertThrows(IllegalArgumentException.class, () -> HttpUpgradeOptions.builder().userAgent("a\rb").build());
        assertThrows(IllegalArgumentException.class, () -> HttpUpgradeOptions.builder().maxEarlyData(-1).build());
        assertThrows(IllegalArgumentException.class,
                () -> HttpUpgradeOptions.builder().maxRequestHeadBytes(10).build());
        assertThrows(IllegalArgumentException.class,
                () -> HttpUpgradeOptions.builder().handshakeTimeout(Duration.ZERO).build());
    }

    @Test
    void v2flyModeNeedsAHeaderName() {
        assertThrows(IllegalArgumentException.class, () -> HttpUpgradeOptions.builder()
                .earlyData(HttpUpgradeOptions.EarlyData.V2FLY_HEADER).build());
        assertThrows(IllegalArgumentException.class, () -> HttpUpgradeOptions.builder()
                .earlyData(HttpUpgradeOptions.EarlyData.V2FLY_HEADER).earlyDataHeader("X-Ed").header("x-ed", "1")
                .build());
        assertEquals("X-Ed", HttpUpgradeOptions.builder().earlyData(HttpUpgradeOptions.EarlyData.V2FLY_HEADER)
                .earlyDataHeader("X-Ed").build().earlyDataHeader());
    }

    @Test
    void userAgentHeaderReplacesTheOption() {
        assertNull(HttpUpgradeOptions.builder().header("user-agent", "x").build().effectiveUserAgent());
        assertNull(HttpUpgradeOptions.builder().userAgent("").build().effectiveUserAgent());
        assertEquals("ua/1", HttpUpgradeOptions.builder().userAgent("ua/1").build().effectiveUserAgent());
    }

    @Test
    void providerRejectsBadValues() {
        HttpUpgradeTransportProvider p = new HttpUpgradeTransportProvider();
        assertThrows(IllegalArgumentException.class, () -> p.parse(Map.of("earlyData", "maybe")));
        assertThrows(IllegalArgumentException.class, () -> p.parse(Map.of("reject", "drop")));
        assertThrows(IllegalArgumentException.class, () -> p.parse(Map.of("fallback", "nohost")));
        assertThrows(IllegalArgumentException.class, () -> p.parse(Map.of("handshakeTimeout", "soon")));
        HttpUpgradeOptions o = p.parse(Map.of("earlyData", "v2fly", "earlyDataHeader", "X-Ed", "maxEarlyData", "100",
                "userAgent", "ua", "trustXForwardedFor", "true", "fallback", "[::1]:80"));
        assertEquals(HttpUpgradeOptions.EarlyData.V2FLY_HEADER, o.earlyData());
        assertEquals(100, o.maxEarlyData());
        assertEquals("ua", o.userAgent());
        assertTrue(o.trustXForwardedFor());
        assertEquals("::1", o.fallback().getHostString());
        assertEquals(HttpUpgradeOptions.defaults(), p.defaultOptions());
    }
}
