package dev.tunnelwire.proxy.http2;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.Tunnels;
import dev.tunnelwire.proxy.Authenticator;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Outbound;
import dev.tunnelwire.service.Chain;
import dev.tunnelwire.service.Hop;
import dev.tunnelwire.service.Service;
import dev.tunnelwire.service.ServiceOptions;
import dev.tunnelwire.testkit.TransportContractTest;
import dev.tunnelwire.transport.http2.Http2ProxyOptions;
import dev.tunnelwire.transport.http2.Http2ProxyTransportProvider;
import dev.tunnelwire.transport.tcp.TcpOptions;
import dev.tunnelwire.transport.tcp.TcpTransportProvider;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The contract through gost's HTTP/2 proxy: client chain (http2 dialer + connector, TLS) → our http2 service →
 * a tcp listener whose tunnels are the contract's server side. The rejected request carries wrong credentials (407).
 */
class Http2ProxyContractTest extends TransportContractTest {

    @Override
    protected TunnelHarness createHarness() {
        return new Harness();
    }

    private static final class Harness implements TunnelHarness {
        private final TunnelRuntime rt = TunnelRuntime.create(2);
        private final Http2ProxyTransportProvider http2 = new Http2ProxyTransportProvider();
        private TunnelListener target;
        private Service service;
        private Chain chain;
        private Chain badChain;

        @Override
        public void startServer(Consumer<Channel> acceptor) throws Exception {
            target = new TcpTransportProvider().newListener(rt,
                    ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), TcpOptions.defaults());
            target.bind((ch, info) -> acceptor.accept(ch)).sync();
            service = Service.of("http2-test", http2.newListener(rt, ListenerConfig.of(
                            new InetSocketAddress("127.0.0.1", 0), ApiHarness.serverTls()), Http2ProxyOptions.defaults()),
                    new Http2ProxyHandler(Authenticator.user("u", "p"), null), Chain.direct(rt),
                    ServiceOptions.defaults());
            InetSocketAddress proxy = service.bind().get();
            chain = chain(proxy, "u", "p");
            badChain = chain(proxy, "u", "wrong");
        }

        private Chain chain(InetSocketAddress proxy, String user, String password) {
            return Chain.of(rt, java.util.List.of(new Hop("http2", Destination.of(proxy),
                    http2.newDialer(rt, DialerConfig.of(proxy, ApiHarness.clientTls()), Http2ProxyOptions.defaults()),
                    new Http2ProxyConnector(user, password))));
        }

        private CompletableFuture<Channel> open(Chain c, Consumer<Channel> init) {
            CompletableFuture<Channel> cf = new CompletableFuture<>();
            Future<Channel> f = c.connect(Destination.of(target.localAddress()), null);
            f.addListener(x -> {
                if (!x.isSuccess()) {
                    cf.completeExceptionally(x.cause());
                    return;
                }
                Channel ch = f.getNow();
                ch.eventLoop().execute(() -> {
                    init.accept(ch);
                    if (ch.pipeline().get(Outbound.HOLD) != null) {
                        ch.pipeline().remove(Outbound.HOLD);
                    }
                    cf.complete(ch);
                });
            });
            return cf;
        }

        @Override
        public CompletableFuture<Channel> openClient(Consumer<Channel> initializer) {
            return open(chain, initializer);
        }

        @Override
        public CompletableFuture<Channel> openRejected(Consumer<Channel> initializer) {
            return open(badChain, initializer);
        }

        @Override
        public void shutdownOutput(Channel tunnel) {
            Tunnels.shutdownOutput(tunnel);
        }

        @Override
        public boolean supportsHalfClose() {
            return true;
        }

        @Override
        public void close() {
            if (chain != null) {
                chain.close();
                badChain.close();
            }
            if (service != null) {
                service.close();
            }
            if (target != null) {
                target.close();
            }
            rt.close();
        }
    }
}
