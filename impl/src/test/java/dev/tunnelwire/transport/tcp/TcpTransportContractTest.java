package dev.tunnelwire.transport.tcp;

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
 * The contract for the raw tcp transport, in cleartext and with TLS. The listener requires a PROXY header, so the
 * rejected request is a client that sends an HTTP request line instead of one.
 */
class TcpTransportContractTest {

    private static final TcpTransportProvider PROVIDER = new TcpTransportProvider();
    private static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);

    static ApiHarness newHarness(boolean tls) {
        ListenerConfig lc = ListenerConfig.of(ANY, tls ? ApiHarness.serverTls() : null).withAcceptProxyProtocol(true);
        return ApiHarness.builder()
                .listener(rt -> PROVIDER.newListener(rt, lc, TcpOptions.defaults()))
                .dialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null)
                                .withProxyProtocol(ProxyProtocolVersion.V2), TcpOptions.defaults()))
                .rejectedDialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null), TcpOptions.defaults()),
                        () -> Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.US_ASCII))
                .halfClose(!tls)
                .build();
    }

    @Nested
    class Plain extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false);
        }
    }

    @Nested
    class Tls extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true);
        }
    }
}
