package dev.tunnelwire.service;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.testkit.Digests;
import dev.tunnelwire.transport.tcp.TcpOptions;
import dev.tunnelwire.transport.tcp.TcpTransportProvider;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Transports to run the proxy tests over, and the byte pump that checks them. */
final class ProxyTestKit {

    static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);
    private static final TcpTransportProvider TCP = new TcpTransportProvider();

    private ProxyTestKit() {
    }

    /** A transport under test: how to make its listener and a dialer for a listener's address. */
    interface Transport {
        String name();

        TunnelListener listener(TunnelRuntime rt);

        TunnelDialer dialer(TunnelRuntime rt, InetSocketAddress server);
    }

    record Simple(String name, java.util.function.Function<TunnelRuntime, TunnelListener> l,
                  java.util.function.BiFunction<TunnelRuntime, InetSocketAddress, TunnelDialer> d)
            implements Transport {
        @Override
        public TunnelListener listener(TunnelRuntime rt) {
            return l.apply(rt);
        }

        @Override
        public TunnelDialer dialer(TunnelRuntime rt, InetSocketAddress server) {
            return d.apply(rt, server);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static final Transport TCP_PLAIN = new Simple("tcp",
            rt -> TCP.newListener(rt, ListenerConfig.of(ANY), TcpOptions.defaults()),
            (rt, a) -> TCP.newDialer(rt, DialerConfig.of(a), TcpOptions.defaults()));

    static final Transport TCP_TLS = new Simple("tls",
            rt -> TCP.newListener(rt, ListenerConfig.of(ANY, ApiHarness.serverTls()), TcpOptions.defaults()),
            (rt, a) -> TCP.newDialer(rt, DialerConfig.of(a, ApiHarness.clientTls()), TcpOptions.defaults()));

    /** Every transport the proxy protocols are tested over; another transport is one more entry here. */
    static final List<Transport> TRANSPORTS = List.of(TCP_PLAIN, TCP_TLS);

    /** Binds a service and returns it. */
    static Service bind(String name, TunnelListener listener, Handler handler, Chain chain) throws Exception {
        Service s = Service.of(name, listener, handler, chain, ServiceOptions.defaults());
        s.bind().sync();
        return s;
    }

    static Destination dest(InetSocketAddress a) {
        return Destination.of(a);
    }

    /**
     * Sends {@code size} random bytes through {@code socket} while reading the echo; checks count and SHA-256 of what
     * came back.
     */
    static void echo16MiB(Socket socket) throws Exception {
        int size = 16 * 1024 * 1024;
        byte[] data = Digests.randomBytes(size, 42);
        socket.setSoTimeout(60_000);
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                for (int off = 0; off < size; off += 65536) {
                    out.write(data, off, Math.min(65536, size - off));
                }
                out.flush();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        MessageDigest md = Digests.sha256();
        byte[] buf = new byte[65536];
        long total = 0;
        while (total < size) {
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            md.update(buf, 0, n);
            total += n;
        }
        writer.get();
        assertEquals(size, total, "echoed byte count");
        assertArrayEquals(Digests.sha256(data), md.digest(), "SHA-256 of the echoed 16 MiB");
    }
}
