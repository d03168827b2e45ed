package dev.tunnelwire.interop;

import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.testkit.TestPki;

import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;

/**
 * What our side of every cell shares: the event loops, the transport registry, the echo target and the test PKI.
 *
 * @param runtime  our event loops (dialers, listeners, recording proxies)
 * @param registry the built-in transports
 * @param echo     the echo target every tunnel ends at
 * @param pool     threads for the blocking workload
 */
record Env(TunnelRuntime runtime, TransportRegistry registry, InetSocketAddress echo, ExecutorService pool) {

    /** Our client TLS: trusts the test CA, verifies the name {@code localhost} (hostname verification on). */
    TlsClientOptions clientTls() {
        return TlsClientOptions.builder().serverName("localhost").trust(TestPki.get().caCertificate()).build();
    }

    /** Our server TLS: the test PKI's {@code localhost} certificate. */
    TlsServerOptions serverTls() {
        TestPki pki = TestPki.get();
        return TlsServerOptions.builder().keyAndChain(pki.serverKey(), pki.serverCertChain()).build();
    }
}
