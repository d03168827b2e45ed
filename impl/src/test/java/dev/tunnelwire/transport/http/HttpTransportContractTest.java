package dev.tunnelwire.transport.http;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.testkit.TransportContractTest;
import org.junit.jupiter.api.Nested;

import java.net.InetSocketAddress;

/**
 * The contract for the V2Ray HTTP transport in its three wire forms, each against the same listener configuration
 * (host list, path prefix, method): HTTP/1.1 in cleartext, HTTP/2 over TLS, and h2c with prior knowledge. The
 * rejected request asks for a path outside the server's prefix (404).
 */
class HttpTransportContractTest {

    private static final HttpTransportProvider PROVIDER = new HttpTransportProvider();
    private static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);

    static final HttpOptions SERVER = HttpOptions.builder().hosts("tunnel.example", "www.example.com")
            .path("/tun").method("PUT").header("X-Server", "tw").build();
    static final HttpOptions CLIENT = HttpOptions.builder().hosts("tunnel.example").path("/tun/sub")
            .header("X-Client", "a", "b").build();

    static ApiHarness newHarness(boolean tls, boolean h2c) {
        ListenerConfig lc = ListenerConfig.of(ANY, tls ? ApiHarness.serverTls() : null);
        HttpOptions client = CLIENT.toBuilder().h2cPriorKnowledge(h2c).build();
        HttpOptions rejected = client.toBuilder().path("/other").build();
        return ApiHarness.builder()
                .listener(rt -> PROVIDER.newListener(rt, lc, SERVER))
                .dialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null), client))
                .rejectedDialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null), rejected), null)
                .halfClose(true)
                .build();
    }

    @Nested
    class Http1Cleartext extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false, false);
        }
    }

    @Nested
    class Http2Tls extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true, false);
        }
    }

    @Nested
    class H2cPriorKnowledge extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false, true);
        }
    }
}
