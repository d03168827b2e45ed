package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.testkit.TransportContractTest;
import org.junit.jupiter.api.Nested;

import java.net.InetSocketAddress;
import java.util.EnumSet;

/**
 * The contract for the grpc transport: Tun and TunMulti (gun) and GostTunel (gost), each in cleartext (h2c prior
 * knowledge) and over TLS (ALPN h2). The rejected request is a call on a path the listener does not serve (answered
 * with grpc-status 12). Half-close is END_STREAM from the client and trailers from the server.
 */
class GrpcTransportContractTest {

    private static final GrpcTransportProvider PROVIDER = new GrpcTransportProvider();
    private static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);

    static ApiHarness newHarness(boolean tls, GrpcOptions client) {
        GrpcOptions server = GrpcOptions.builder().serviceName("gunsvc")
                .serve(EnumSet.allOf(GrpcOptions.Flavour.class)).build();
        ListenerConfig lc = ListenerConfig.of(ANY, tls ? ApiHarness.serverTls() : null);
        return ApiHarness.builder()
                .listener(rt -> PROVIDER.newListener(rt, lc, server))
                .dialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null), client))
                .rejectedDialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                        client.toBuilder().flavour(GrpcOptions.Flavour.GUN).multi(false).serviceName("wrong")
                                .build()), null)
                .halfClose(true)
                .build();
    }

    static GrpcOptions tun() {
        return GrpcOptions.builder().serviceName("gunsvc").build();
    }

    static GrpcOptions multi() {
        return GrpcOptions.builder().serviceName("gunsvc").multi(true).build();
    }

    static GrpcOptions gost() {
        return GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).build();
    }

    @Nested
    class TunPlain extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false, tun());
        }
    }

    @Nested
    class TunTls extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true, tun());
        }
    }

    @Nested
    class MultiPlain extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false, multi());
        }
    }

    @Nested
    class MultiTls extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true, multi());
        }
    }

    @Nested
    class GostPlain extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false, gost());
        }
    }

    @Nested
    class GostTls extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true, gost());
        }
    }
}
