package dev.tunnelwire.internal;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.TunnelRuntime;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Consumer;

/**
 * The transport-independent bottom of every listener: bind, then per connection an optional PROXY protocol decoder
 * and optional TLS, followed by the transport's own handlers (added by the {@code transportInit} callback in the
 * same pass, so they see exactly the bytes after the PROXY header and TLS).
 */
public final class ServerStack implements AutoCloseable {

    public static final String TLS_HANDLER = "tw-tls";

    private final TunnelRuntime runtime;
    private final ListenerConfig config;
    private final SslContext ssl;
    private final boolean halfClosure;
    private volatile Channel serverChannel;

    public ServerStack(TunnelRuntime runtime, ListenerConfig config, List<String> defaultAlpn, boolean halfClosure) {
        this.runtime = runtime;
        this.config = config;
        TlsServerOptions tls = config.tls();
        this.ssl = tls == null ? null : TlsContexts.server(tls.withDefaultAlpn(defaultAlpn));
        this.halfClosure = halfClosure && ssl == null;
    }

    public ListenerConfig config() {
        return config;
    }

    public TunnelRuntime runtime() {
        return runtime;
    }

    public boolean tls() {
        return ssl != null;
    }

    /** Binds; every accepted connection gets the stack handlers and then {@code transportInit}. */
    public Future<InetSocketAddress> bind(Consumer<Channel> transportInit) {
        Promise<InetSocketAddress> promise = runtime.group().next().newPromise();
        new ServerBootstrap()
                .group(runtime.group())
                .channel(runtime.serverChannelType())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, halfClosure)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        install(ch, transportInit);
                    }
                })
                .bind(config.bind())
                .addListener(f -> {
                    io.netty.channel.ChannelFuture cf = (io.netty.channel.ChannelFuture) f;
                    if (cf.isSuccess()) {
                        serverChannel = cf.channel();
                        promise.trySuccess((InetSocketAddress) cf.channel().localAddress());
                    } else {
                        promise.tryFailure(cf.cause());
                    }
                });
        return promise;
    }

    /** Adds PROXY decoding and TLS as configured to {@code ch}, then runs {@code transportInit}. */
    public void install(Channel ch, Consumer<Channel> transportInit) {
        if (config.acceptProxyProtocol()) {
            ch.pipeline().addLast("tw-proxy-decoder", new HAProxyMessageDecoder());
            ch.pipeline().addLast("tw-proxy", new ProxyProtocolServerHandler(
                    ProxyProtocolServerHandler.DEFAULT_TIMEOUT_MILLIS));
        }
        if (ssl != null) {
            ch.pipeline().addLast(TLS_HANDLER, ssl.newHandler(ch.alloc()));
        }
        if (halfClosure) {
            ch.pipeline().addLast(HalfCloseHandler.NAME, new HalfCloseHandler());
        }
        transportInit.accept(ch);
    }

    public InetSocketAddress localAddress() {
        Channel c = serverChannel;
        return c == null ? null : (InetSocketAddress) c.localAddress();
    }

    @Override
    public void close() {
        Channel c = serverChannel;
        if (c != null) {
            c.close().syncUninterruptibly();
        }
    }
}
