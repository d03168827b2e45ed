package dev.tunnelwire.transport.pht;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.testkit.TransportContractTest;
import org.junit.jupiter.api.Nested;

import java.net.InetSocketAddress;

/** The contract for PHT (cleartext) and PHTS (TLS). The rejected request authorizes on a path the server lacks. */
class PhtTransportContractTest {

    private static final PhtTransportProvider PROVIDER = new PhtTransportProvider();

    static ApiHarness newHarness(boolean tls) {
        ListenerConfig lc = ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0),
                tls ? ApiHarness.serverTls() : null);
        return ApiHarness.builder()
                .listener(rt -> PROVIDER.newListener(rt, lc, PhtOptions.defaults()))
                .dialer((rt, addr) -> PROVIDER.newDialer(rt, DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                        PhtOptions.defaults()))
                .rejectedDialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                        PhtOptions.builder().authorizePath("/wrong").build()), null)
                .halfClose(false)
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
