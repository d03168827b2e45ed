package dev.tunnelwire.transport.h2tunnel;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ServerStack;
import dev.tunnelwire.internal.h2.H2Codecs;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * The h2/h2c tunnel server: HTTP/2 over TLS (ALPN {@code h2}) or cleartext with prior knowledge, with the shared
 * flood protections and windows ({@link H2Codecs}); every accepted stream goes through
 * {@link H2TunnelServerHandshake}.
 */
final class H2TunnelListener implements TunnelListener {

    private final ServerStack stack;
    private final H2TunnelOptions options;

    H2TunnelListener(TunnelRuntime runtime, ListenerConfig config, H2TunnelOptions options) {
        this.stack = new ServerStack(runtime, config, List.of(ApplicationProtocolNames.HTTP_2), false);
        this.options = options;
    }

    @Override
    public Future<InetSocketAddress> bind(TunnelInitializer initializer) {
        return stack.bind(ch -> install(ch, initializer));
    }

    @Override
    public void serve(Channel connection, TunnelInitializer initializer) {
        stack.install(connection, ch -> install(ch, initializer));
    }

    private void install(Channel ch, TunnelInitializer initializer) {
        H2Codecs.installServer(ch, options.h2(), new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel s) {
                s.pipeline().addLast("tw-h2tunnel-handshake", new H2TunnelServerHandshake(options.path(),
                        initializer));
            }
        }, transport() + " listener " + ch.localAddress());
    }

    @Override
    public InetSocketAddress localAddress() {
        return stack.localAddress();
    }

    @Override
    public String transport() {
        return H2TunnelOptions.SCHEME;
    }

    @Override
    public void close() {
        stack.close();
    }
}
