package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ServerStack;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A raw TCP listener (PROXY header and TLS with ALPN {@code http/1.1} as configured) that reads one upgrade request
 * per connection and then hands the connection itself to the initializer: no HTTP semantics after the 101, raw
 * bytes, half-close on cleartext.
 */
final class HttpUpgradeListener implements TunnelListener {

    private final ServerStack stack;
    private final HttpUpgradeOptions options;

    HttpUpgradeListener(TunnelRuntime runtime, ListenerConfig config, HttpUpgradeOptions options) {
        this.stack = new ServerStack(runtime, config, List.of(HttpUpgradeProtocol.ALPN_HTTP_1_1), true);
        this.options = options;
    }

    @Override
    public Future<InetSocketAddress> bind(TunnelInitializer initializer) {
        return stack.bind(ch -> addHandshake(ch, initializer));
    }

    @Override
    public void serve(Channel connection, TunnelInitializer initializer) {
        stack.install(connection, ch -> addHandshake(ch, initializer));
    }

    private void addHandshake(Channel ch, TunnelInitializer initializer) {
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        if (ssl != null) {
            ssl.setHandshakeTimeout(options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        HttpUpgradeFallback fallback = null;
        if (options.fallback() != null) {
            ch.pipeline().addLast(HttpUpgradeProtocol.RECORDER, new HttpUpgradeRecorder());
            fallback = new HttpUpgradeFallback(stack.runtime(), options.fallback());
        }
        int limit = options.maxRequestHeadBytes();
        ch.pipeline().addLast(HttpUpgradeProtocol.CODEC, new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(limit).setMaxHeaderSize(limit)));
        ch.pipeline().addLast(HttpUpgradeProtocol.HANDSHAKE,
                new HttpUpgradeServerHandshakeHandler(options, initializer, fallback));
    }

    @Override
    public InetSocketAddress localAddress() {
        return stack.localAddress();
    }

    @Override
    public String transport() {
        return HttpUpgradeOptions.SCHEME;
    }

    @Override
    public void close() {
        stack.close();
    }
}
