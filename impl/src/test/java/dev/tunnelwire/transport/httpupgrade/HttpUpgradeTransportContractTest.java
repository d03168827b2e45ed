package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.ProxyProtocolVersion;
import dev.tunnelwire.testkit.TransportContractTest;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Nested;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The contract for httpupgrade: cleartext (with half-close), TLS, TLS with Xray-style early data, and cleartext
 * with a PROXY v2 header. The rejected request asks for a wrong path (and, with early data, pipelines bytes behind
 * it that must never be delivered).
 */
class HttpUpgradeTransportContractTest {

    private static final HttpUpgradeTransportProvider PROVIDER = new HttpUpgradeTransportProvider();
    private static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);

    static ApiHarness newHarness(boolean tls, HttpUpgradeOptions.EarlyData ed, boolean proxyProtocol) {
        HttpUpgradeOptions server = HttpUpgradeOptions.builder().path("/hu").build();
        HttpUpgradeOptions client = server.toBuilder().earlyData(ed).build();
        HttpUpgradeOptions wrong = client.toBuilder().path("/nope").build();
        ListenerConfig lc = ListenerConfig.of(ANY, tls ? ApiHarness.serverTls() : null)
                .withAcceptProxyProtocol(proxyProtocol);
        ProxyProtocolVersion pp = proxyProtocol ? ProxyProtocolVersion.V2 : null;
        return ApiHarness.builder()
                .listener(rt -> PROVIDER.newListener(rt, lc, server))
                .dialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null).withProxyProtocol(pp), client))
                .rejectedDialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null).withProxyProtocol(pp), wrong),
                        () -> Unpooled.copiedBuffer("must never arrive", StandardCharsets.US_ASCII))
                .halfClose(!tls)
                .build();
    }

    @Nested
    class Plain extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false, HttpUpgradeOptions.EarlyData.NONE, false);
        }
    }

    @Nested
    class Tls extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true, HttpUpgradeOptions.EarlyData.NONE, false);
        }
    }

    @Nested
    class TlsXrayEarlyData extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true, HttpUpgradeOptions.EarlyData.XRAY_ED, false);
        }
    }

    @Nested
    class PlainProxyProtocol extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false, HttpUpgradeOptions.EarlyData.XRAY_ED, true);
        }
    }
}
