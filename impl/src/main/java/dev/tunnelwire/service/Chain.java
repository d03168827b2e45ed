package dev.tunnelwire.service;

import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.HalfCloseHandler;
import dev.tunnelwire.internal.HoldInbound;
import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Outbound;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Promise;

import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * How a handler reaches its destinations: directly over TCP (no hops) or through a list of proxies, each a transport
 * dialer plus a proxy protocol connector.
 *
 * <p>With hops, {@link #connect} opens the first hop's tunnel with its connector's request for the second hop's
 * address, runs the second hop's transport over that tunnel ({@link dev.tunnelwire.TunnelDialer#openOver}), and so
 * on; the last hop's connector asks for the destination and carries the first payload, which therefore rides in the
 * first packet the protocols allow (for a single hop over WebSocket: in the early data). Intermediate hops carry
 * only their successor's transport handshake.
 *
 * <p>Without hops, connects with TCP ({@code TCP_NODELAY}, half-close, connect timeout
 * {@value #DEFAULT_CONNECT_TIMEOUT_SECONDS} s) through the runtime; a domain name is resolved with the JDK resolver
 * on a small daemon pool, never on an event loop. Thread-safe.
 */
public final class Chain implements Outbound, AutoCloseable {

    /** Default TCP connect timeout of direct connections, in seconds. */
    public static final long DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

    /** Resolves domain names for direct connections (daemon threads, at most 8, idle ones end after 30 s). */
    private static final ThreadPoolExecutor RESOLVER = resolver();

    private final TunnelRuntime runtime;
    private final List<Hop> hops;
    private final Duration connectTimeout;

    private Chain(TunnelRuntime runtime, List<Hop> hops, Duration connectTimeout) {
        this.runtime = runtime;
        this.hops = List.copyOf(hops);
        this.connectTimeout = connectTimeout;
    }

    /** Direct TCP connections through {@code runtime}. */
    public static Chain direct(TunnelRuntime runtime) {
        return new Chain(runtime, List.of(), Duration.ofSeconds(DEFAULT_CONNECT_TIMEOUT_SECONDS));
    }

    /** Connections through {@code hops}, in order (empty: direct). */
    public static Chain of(TunnelRuntime runtime, List<Hop> hops) {
        return new Chain(runtime, hops, Duration.ofSeconds(DEFAULT_CONNECT_TIMEOUT_SECONDS));
    }

    public List<Hop> hops() {
        return hops;
    }

    /** Only chains with hops: a direct connection has nothing to send the payload with. */
    @Override
    public boolean benefitsFromFirstPayload() {
        return !hops.isEmpty();
    }

    @Override
    public Future<Channel> connect(Destination destination, ByteBuf firstPayload) {
        Promise<Channel> result = runtime.group().next().newPromise();
        try {
            if (hops.isEmpty()) {
                direct(destination, firstPayload, result);
            } else {
                step(0, null, destination, firstPayload, result);
            }
        } catch (Throwable t) {
            ReferenceCountUtil.safeRelease(firstPayload);
            result.tryFailure(t);
        }
        return result;
    }

    private void direct(Destination destination, ByteBuf firstPayload, Promise<Channel> result) {
        if (destination.isIp()) {
            direct(destination.toSocketAddress(), firstPayload, result);
            return;
        }
        // JDK name resolution blocks: keep it off the event loops
        CompletableFuture.supplyAsync(() -> new InetSocketAddress(destination.host(), destination.port()), RESOLVER)
                .whenComplete((address, error) -> {
                    if (error == null && address.isUnresolved()) {
                        error = new UnknownHostException(destination.host());
                    }
                    if (error != null) {
                        ReferenceCountUtil.safeRelease(firstPayload);
                        result.tryFailure(error instanceof CompletionException && error.getCause() != null
                                ? error.getCause() : error);
                    } else {
                        direct(address, firstPayload, result);
                    }
                });
    }

    private void direct(InetSocketAddress address, ByteBuf firstPayload, Promise<Channel> result) {
        Bootstrap b = new Bootstrap()
                .group(runtime.group())
                .channel(runtime.socketChannelType())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(HalfCloseHandler.NAME, new HalfCloseHandler());
                        ch.pipeline().addLast(HOLD, new HoldInbound());
                    }
                });
        ChannelFuture cf = b.connect(address);
        cf.addListener(f -> {
            if (!f.isSuccess()) {
                ReferenceCountUtil.safeRelease(firstPayload);
                result.tryFailure(f.cause());
                return;
            }
            if (firstPayload != null) {
                cf.channel().writeAndFlush(firstPayload);
            }
            if (!result.trySuccess(cf.channel())) {
                cf.channel().close();
            }
        });
    }

    private void step(int i, Channel carrier, Destination destination, ByteBuf payload, Promise<Channel> result) {
        Hop hop = hops.get(i);
        boolean last = i == hops.size() - 1;
        Destination target = last ? destination : hops.get(i + 1).address();
        Connector.Handshake hs = hop.connector().handshake(target, last ? payload : null, runtime.allocator());
        ByteBuf first = hs.firstBytes();
        Promise<Void> ready = runtime.group().next().newPromise();
        TunnelInitializer init = (ch, info) -> {
            hs.install(ch, ready);
            ch.pipeline().addLast(HOLD, new HoldInbound());
        };
        Future<Channel> opened = carrier == null ? hop.dialer().open(first, init)
                : hop.dialer().openOver(carrier, first, init);
        opened.addListener(o -> {
            if (!o.isSuccess()) {
                if (carrier != null) {
                    carrier.close();
                }
                if (!last) {
                    ReferenceCountUtil.safeRelease(payload);
                }
                result.tryFailure(o.cause());
                return;
            }
            Channel ch = opened.getNow();
            ready.addListener(r -> {
                if (!r.isSuccess()) {
                    ch.close();
                    if (!last) {
                        ReferenceCountUtil.safeRelease(payload);
                    }
                    result.tryFailure(r.cause());
                } else if (last) {
                    if (!result.trySuccess(ch)) {
                        ch.close();
                    }
                } else {
                    ch.eventLoop().execute(() -> {
                        try {
                            step(i + 1, ch, destination, payload, result);
                        } finally {
                            if (ch.pipeline().get(HOLD) != null) {
                                ch.pipeline().remove(HOLD);
                            }
                            ch.config().setAutoRead(true);
                            ch.read();
                        }
                    });
                }
            });
        });
    }

    private static ThreadPoolExecutor resolver() {
        ThreadPoolExecutor e = new ThreadPoolExecutor(8, 8, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory("tunnelwire-resolver", true));
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    /** Closes the hops' dialers. */
    @Override
    public void close() {
        for (Hop h : hops) {
            h.dialer().close();
        }
    }
}
