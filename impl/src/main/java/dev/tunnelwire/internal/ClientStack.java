package dev.tunnelwire.internal;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ProxyProtocolVersion;
import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TunnelRuntime;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The transport-independent bottom of every dialer: TCP connect (or an existing carrier channel), an optional PROXY
 * protocol header, and optional TLS with SNI, ALPN and hostname verification. The returned channel is ready for the
 * transport's handshake: its TLS handshake (if any) has completed, and {@link #negotiatedProtocol} tells the ALPN
 * result.
 *
 * <p><b>No byte is lost before the transport is installed.</b> The channel comes back with {@code autoRead} off: the
 * caller installs its handlers in the future's listener, on the channel's loop, then calls {@link #startReading}
 * (or, in {@link #handOver}, it is done for it). A server may speak first (an HTTP/2 server sends SETTINGS right
 * after the TLS handshake), and those bytes can arrive in the same read as the end of the handshake, which
 * {@code SslHandler} decrypts and fires regardless of {@code autoRead}; the caller's listener may even run later
 * (when it was added after the future completed, it runs as a task). So over TLS a {@link HoldInbound} named
 * {@link #HOLD} sits behind the TLS handler and keeps what arrives until {@link #startReading} releases it into the
 * caller's handlers.
 */
public final class ClientStack {

    public static final String TLS_HANDLER = "tw-tls";
    /** The handler that keeps what TLS decrypts between the handshake and {@link #startReading}. */
    public static final String HOLD = "tw-client-hold";

    private final TunnelRuntime runtime;
    private final DialerConfig config;
    private final SslContext ssl;
    private final boolean halfClosure;

    /**
     * @param defaultAlpn ALPN offered when the TLS options name none
     * @param halfClosure whether the transport propagates half-close (sets {@code ALLOW_HALF_CLOSURE} and installs
     *                    {@link HalfCloseHandler}); ignored with TLS, see {@link HalfCloseHandler}
     */
    public ClientStack(TunnelRuntime runtime, DialerConfig config, List<String> defaultAlpn, boolean halfClosure) {
        this.runtime = runtime;
        this.config = config;
        TlsClientOptions tls = config.tls();
        this.ssl = tls == null ? null : TlsContexts.client(tls.withDefaultAlpn(defaultAlpn));
        this.halfClosure = halfClosure && ssl == null;
    }

    public DialerConfig config() {
        return config;
    }

    public TunnelRuntime runtime() {
        return runtime;
    }

    public boolean tls() {
        return ssl != null;
    }

    /** Connects a new TCP connection and completes once PROXY header and TLS handshake are done. */
    public Future<Channel> connect() {
        io.netty.channel.EventLoop loop = runtime.group().next();
        Promise<Channel> promise = loop.newPromise();
        Bootstrap b = new Bootstrap()
                .group(loop)
                .option(ChannelOption.AUTO_READ, false)
                .channel(runtime.socketChannelType())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, halfClosure)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // handlers are added once connected
                    }
                });
        InetSocketAddress server = config.server();
        InetSocketAddress target = server.isUnresolved()
                ? new InetSocketAddress(server.getHostString(), server.getPort()) : server;
        ChannelFuture cf = b.connect(target);
        cf.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            setUp(cf.channel(), promise);
        });
        return promise;
    }

    /** Runs PROXY header and TLS over an existing channel that carries bytes to the server. */
    public Future<Channel> over(Channel carrier) {
        Promise<Channel> promise = carrier.eventLoop().newPromise();
        if (carrier.eventLoop().inEventLoop()) {
            carrier.config().setAutoRead(false);
            setUp(carrier, promise);
        } else {
            carrier.eventLoop().execute(() -> {
                carrier.config().setAutoRead(false);
                setUp(carrier, promise);
            });
        }
        return promise;
    }

    private void setUp(Channel ch, Promise<Channel> promise) {
        try {
            if (config.proxyProtocol() != null) {
                ch.pipeline().addLast("tw-proxy-encoder", HAProxyMessageEncoder.INSTANCE);
                ch.writeAndFlush(proxyHeader(ch, config.proxyProtocol()));
                ch.pipeline().remove("tw-proxy-encoder");
            }
            if (ssl != null) {
                String sni = config.tls().serverName() != null ? config.tls().serverName()
                        : config.server().getHostString();
                SslHandler sh = ssl.newHandler(ch.alloc(), sni, config.server().getPort());
                ch.pipeline().addLast(TLS_HANDLER, sh);
                ch.pipeline().addLast(HOLD, new HoldInbound());
                sh.handshakeFuture().addListener(f -> {
                    if (f.isSuccess()) {
                        promise.trySuccess(ch);
                    } else {
                        ch.close();
                        promise.tryFailure(f.cause());
                    }
                });
            } else {
                if (halfClosure) {
                    ch.pipeline().addLast(HalfCloseHandler.NAME, new HalfCloseHandler());
                }
                promise.trySuccess(ch);
            }
        } catch (Throwable t) {
            ch.close();
            promise.tryFailure(t);
        }
    }

    /**
     * The common last step of a byte-stream dialer: a new promise that fails (releasing {@code firstPayload}) when
     * {@code connected} fails or the connection is already closed, and otherwise, on the channel's loop, turns
     * {@code autoRead} on and runs {@code install}, which adds the transport's handlers and takes over
     * {@code firstPayload} and the promise. Reading starts only after {@code install} returned, so no byte passes the
     * handlers it adds; an exception from {@code install} closes the channel and fails the promise ({@code install}
     * must have released {@code firstPayload} itself by then).
     */
    public Future<Channel> handOver(Future<Channel> connected, ByteBuf firstPayload,
                                    java.util.function.BiConsumer<Channel, Promise<Channel>> install) {
        Promise<Channel> promise = runtime.group().next().newPromise();
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                io.netty.util.ReferenceCountUtil.safeRelease(firstPayload);
                promise.tryFailure(f.cause());
                return;
            }
            Channel ch = connected.getNow();
            if (!ch.isActive()) {
                io.netty.util.ReferenceCountUtil.safeRelease(firstPayload);
                promise.tryFailure(new dev.tunnelwire.TunnelException("connection closed before the tunnel handshake"));
                return;
            }
            ch.config().setAutoRead(true);
            try {
                install.accept(ch, promise);
                releaseHold(ch);
            } catch (Throwable t) {
                ch.close();
                promise.tryFailure(t);
            }
        });
        return promise;
    }

    /**
     * Ends the hand-over of a channel from {@link #connect()} or {@link #over}: releases what the hold kept (see
     * {@link #HOLD}) into the handlers the consumer has just installed, then turns {@code autoRead} on. Every consumer
     * calls this (or {@link #releaseHold}) on the channel's loop once its handlers are in place.
     */
    public static void startReading(Channel ch) {
        releaseHold(ch);
        ch.config().setAutoRead(true);
    }

    /** Removes the hold (firing what it kept into the handlers after it), leaving {@code autoRead} as it is. */
    public static void releaseHold(Channel ch) {
        if (ch.pipeline().get(HOLD) != null) {
            ch.pipeline().remove(HOLD);
        }
    }

    /** The ALPN protocol negotiated on {@code ch}, or {@code null} without TLS or ALPN. */
    public static String negotiatedProtocol(Channel ch) {
        SslHandler sh = ch.pipeline().get(SslHandler.class);
        return sh == null ? null : sh.applicationProtocol();
    }

    static HAProxyMessage proxyHeader(Channel ch, ProxyProtocolVersion version) {
        HAProxyProtocolVersion v = version == ProxyProtocolVersion.V1 ? HAProxyProtocolVersion.V1
                : HAProxyProtocolVersion.V2;
        Channel root = Connections.root(ch);
        if (root.localAddress() instanceof InetSocketAddress src
                && root.remoteAddress() instanceof InetSocketAddress dst
                && src.getAddress() != null && dst.getAddress() != null) {
            boolean v6 = src.getAddress() instanceof Inet6Address;
            return new HAProxyMessage(v, HAProxyCommand.PROXY,
                    v6 ? HAProxyProxiedProtocol.TCP6 : HAProxyProxiedProtocol.TCP4,
                    NetUtil.toAddressString(src.getAddress()), NetUtil.toAddressString(dst.getAddress()),
                    src.getPort(), dst.getPort());
        }
        return new HAProxyMessage(v, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0);
    }
}
