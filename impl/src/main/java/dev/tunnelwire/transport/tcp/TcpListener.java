package dev.tunnelwire.transport.tcp;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Connections;
import dev.tunnelwire.internal.Establish;
import dev.tunnelwire.internal.ProxyHeaderDecodedEvent;
import dev.tunnelwire.internal.ServerStack;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Accepts TCP connections; each one is a tunnel as soon as the PROXY header (when required) has been decoded. With
 * TLS, a handshake that does not finish within the timeout closes the connection.
 */
final class TcpListener implements TunnelListener {

    private final ServerStack stack;
    private final TcpOptions options;

    TcpListener(TunnelRuntime runtime, ListenerConfig config, TcpOptions options) {
        this.stack = new ServerStack(runtime, config, List.of(), true);
        this.options = options;
    }

    @Override
    public Future<InetSocketAddress> bind(TunnelInitializer initializer) {
        return stack.bind(ch -> addAcceptor(ch, initializer));
    }

    @Override
    public void serve(Channel connection, TunnelInitializer initializer) {
        stack.install(connection, ch -> addAcceptor(ch, initializer));
    }

    private void addAcceptor(Channel ch, TunnelInitializer initializer) {
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        if (ssl != null) {
            ssl.setHandshakeTimeout(options.tlsHandshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        ch.pipeline().addLast("tw-tcp-accept", new Acceptor(initializer, stack.config().acceptProxyProtocol()));
    }

    @Override
    public InetSocketAddress localAddress() {
        return stack.localAddress();
    }

    @Override
    public String transport() {
        return TcpOptions.SCHEME;
    }

    @Override
    public void close() {
        stack.close();
    }

    /** Runs the initializer once (after the PROXY header when one is required), then steps aside. */
    private static final class Acceptor extends ChannelInboundHandlerAdapter {
        private final TunnelInitializer initializer;
        private final boolean waitForProxyHeader;

        Acceptor(TunnelInitializer initializer, boolean waitForProxyHeader) {
            this.initializer = initializer;
            this.waitForProxyHeader = waitForProxyHeader;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            if (!waitForProxyHeader) {
                accept(ctx);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ProxyHeaderDecodedEvent.INSTANCE) {
                accept(ctx);
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        private void accept(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            ctx.pipeline().remove(this);
            Establish.tunnel(ch, TunnelInfo.of(TcpOptions.SCHEME, Connections.clientAddress(ch), ch.localAddress()),
                    initializer, null, null);
        }
    }
}
