package dev.tunnelwire.transport.ws;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.testkit.TransportContractTest;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Nested;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The transport contract for {@code ws}: cleartext, TLS ({@code wss}), and with early data in each dialect (the
 * contract's tunnels open without a first payload, so the early-data variants check that the lazy path degrades to a
 * plain handshake; {@link WsEndToEndTest} covers first payloads). WebSocket has no half-close. The rejected request
 * asks for a wrong path (404).
 */
class WsTransportContractTest {

    private static final WsTransportProvider PROVIDER = new WsTransportProvider();
    private static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);

    static ApiHarness newHarness(boolean tls, WsOptions server, WsOptions client) {
        ListenerConfig lc = ListenerConfig.of(ANY, tls ? ApiHarness.serverTls() : null);
        return ApiHarness.builder()
                .listener(rt -> PROVIDER.newListener(rt, lc, server))
                .dialer((rt, addr) -> PROVIDER.newDialer(rt, DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                        client))
                .rejectedDialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                        client.toBuilder().path("/elsewhere/").build()),
                        () -> Unpooled.copiedBuffer("first", StandardCharsets.US_ASCII))
                .halfClose(false)
                .build();
    }

    static WsOptions path(String p) {
        return WsOptions.builder().path(p).build();
    }

    @Nested
    class Plain extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false, path("/ws"), path("/ws"));
        }
    }

    @Nested
    class Tls extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true, path("/ws"), path("/ws"));
        }
    }

    @Nested
    class XrayEarlyDataTls extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true, path("/ws"), path("/ws?ed=2048"));
        }
    }

    @Nested
    class PathEarlyDataFragmented extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false,
                    WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 2048).build(),
                    WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 2048).fragmentSize(4096)
                            .build());
        }
    }
}
