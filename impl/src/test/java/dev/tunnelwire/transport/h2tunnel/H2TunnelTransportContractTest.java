package dev.tunnelwire.transport.h2tunnel;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.testkit.TransportContractTest;
import org.junit.jupiter.api.Nested;

import java.net.InetSocketAddress;

/**
 * The contract for GOST's h2 (TLS) and h2c tunnels, in CONNECT mode and path mode. The rejected request is a GET on
 * a CONNECT-only server (405) or a wrong path (400).
 */
class H2TunnelTransportContractTest {

    private static final H2TunnelTransportProvider PROVIDER = new H2TunnelTransportProvider();

    static ApiHarness newHarness(boolean tls, String path) {
        H2TunnelOptions server = H2TunnelOptions.builder().path(path).build();
        H2TunnelOptions client = H2TunnelOptions.builder().path(path).build();
        H2TunnelOptions rejected = H2TunnelOptions.builder().path(path == null ? "/not-connect" : path + "-wrong")
                .build();
        ListenerConfig lc = ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0),
                tls ? ApiHarness.serverTls() : null);
        return ApiHarness.builder()
                .listener(rt -> PROVIDER.newListener(rt, lc, server))
                .dialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null), client))
                .rejectedDialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null), rejected), null)
                .halfClose(true)
                .build();
    }

    @Nested
    class H2Connect extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true, null);
        }
    }

    @Nested
    class H2cConnect extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false, null);
        }
    }

    @Nested
    class H2cPath extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false, "/h2");
        }
    }
}
