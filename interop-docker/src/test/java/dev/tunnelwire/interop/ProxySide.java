package dev.tunnelwire.interop;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.Outbound;
import dev.tunnelwire.service.Chain;
import dev.tunnelwire.service.Hop;
import dev.tunnelwire.service.Service;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Our side of a cell that carries a proxy protocol (VLESS, SOCKS5, HTTP CONNECT, relay) over a transport: outbound,
 * a one-hop {@link Chain} (our transport dialer plus the protocol's {@link Connector}) asking the peer for the echo
 * target; inbound, a {@link Service} (our transport listener plus the protocol's {@link Handler}) that connects
 * directly to whatever destination the peer client asks for (the echo target).
 */
record ProxySide(String scheme, Map<String, String> params, String protocol, Supplier<Connector> connector,
                 Supplier<Handler> handler) implements OurSide {

    @Override
    public String describe() {
        return protocol + " over " + scheme + " " + params;
    }

    @Override
    public Client client(Env env, InetSocketAddress server, boolean tls) {
        TransportProvider p = env.registry().provider(scheme);
        TunnelDialer dialer = p.newDialer(env.runtime(), DialerConfig.of(server, tls ? env.clientTls() : null),
                p.parse(params));
        Chain chain = Chain.of(env.runtime(), List.of(new Hop("peer", Destination.of(server), dialer,
                connector.get())));
        return new Client() {
            @Override
            public Conn open(byte[] first) throws Exception {
                Future<Channel> f = chain.connect(Destination.of(env.echo()), Unpooled.wrappedBuffer(first));
                if (!f.await(20, TimeUnit.SECONDS)) {
                    f.cancel(false);
                    throw new IOException(describe() + ": no tunnel after 20 s");
                }
                if (!f.isSuccess()) {
                    throw new IOException(describe() + " failed: " + f.cause(), f.cause());
                }
                Channel ch = f.getNow();
                // the chain holds inbound bytes in Outbound.HOLD until our handler is in place
                return ch.eventLoop().submit(() -> {
                    Conn c = Conn.of(ch);
                    if (ch.pipeline().get(Outbound.HOLD) != null) {
                        ch.pipeline().remove(Outbound.HOLD);
                    }
                    ch.config().setAutoRead(true);
                    ch.read();
                    return c;
                }).get(10, TimeUnit.SECONDS);
            }

            @Override
            public void close() {
                chain.close();
            }
        };
    }

    @Override
    public Server server(Env env, boolean tls) throws Exception {
        TransportProvider p = env.registry().provider(scheme);
        TunnelListener l = p.newListener(env.runtime(),
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? env.serverTls() : null),
                p.parse(params));
        Chain direct = Chain.direct(env.runtime());
        Service service = Service.of(protocol + "-" + scheme, l, handler.get(), direct, null);
        service.bind().sync();
        return new Server() {
            @Override
            public int port() {
                return service.localAddress().getPort();
            }

            @Override
            public void close() {
                service.close();
                direct.close();
            }
        };
    }
}
