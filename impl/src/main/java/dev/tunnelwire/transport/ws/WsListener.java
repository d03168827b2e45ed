package dev.tunnelwire.transport.ws;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ServerStack;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * The {@code ws} server: PROXY protocol and TLS (ALPN {@code http/1.1} unless configured otherwise) from the
 * {@link ServerStack}, then an HTTP/1 request decoder, a response encoder and a {@link WsServerHandshakeHandler}.
 */
final class WsListener implements TunnelListener {

    private final ServerStack stack;
    private final WsOptions options;

    WsListener(TunnelRuntime runtime, ListenerConfig config, WsOptions options) {
        this.stack = new ServerStack(runtime, config, List.of("http/1.1"), false);
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
        ChannelPipeline p = ch.pipeline();
        SslHandler ssl = p.get(SslHandler.class);
        if (ssl != null) {
            ssl.setHandshakeTimeoutMillis(options.handshakeTimeout().toMillis());
        }
        p.addLast(WsProtocol.HTTP_DECODER, new HttpRequestDecoder(new HttpDecoderConfig()
                .setMaxInitialLineLength(WsProtocol.MAX_REQUEST_HEAD_BYTES)
                .setMaxHeaderSize(WsProtocol.MAX_REQUEST_HEAD_BYTES)));
        p.addLast(WsProtocol.HTTP_ENCODER, new HttpResponseEncoder());
        p.addLast(WsProtocol.HANDSHAKE, new WsServerHandshakeHandler(options, initializer));
    }

    @Override
    public InetSocketAddress localAddress() {
        return stack.localAddress();
    }

    @Override
    public String transport() {
        return WsOptions.SCHEME;
    }

    @Override
    public void close() {
        stack.close();
    }
}
