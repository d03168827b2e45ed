package dev.tunnelwire.internal.h2;

import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.internal.ClientStack;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pooled HTTP/2 connections of one dialer (that is, of one server authority), shared by every tunnel of that
 * dialer: each tunnel is a new {@link Http2StreamChannel}.
 *
 * <ul>
 *   <li>A connection is made by the dialer's {@link ClientStack} (TCP or a carrier, PROXY header, TLS). With TLS the
 *       server must select ALPN {@code h2}; without TLS, HTTP/2 is spoken with prior knowledge (h2c).</li>
 *   <li>Streams go to the oldest usable connection that has a free stream slot: the pool counts the streams it opened
 *       on each connection (until they close) against the server's {@code SETTINGS_MAX_CONCURRENT_STREAMS}. When every
 *       connection is full another one is opened, so tunnel number limit + 1 works instead of waiting forever for a
 *       slot (gRPC servers announce 100 to 1,024 and a busy client exceeds that).</li>
 *   <li>A connection that closed, or that received GOAWAY, gets no new streams and leaves the pool. Streams already
 *       open on a GOAWAY'd connection finish normally.</li>
 *   <li>With {@link H2Settings#idleTimeout()} set, {@link H2KeepaliveHandler} pings an idle connection and closes it
 *       when the PING is not acknowledged in time; its tunnels fail fast because stream channels close with their
 *       parent.</li>
 * </ul>
 * Thread-safe.
 */
public final class H2ClientPool implements AutoCloseable {

    private static final AttributeKey<Boolean> DRAINING = AttributeKey.valueOf("dev.tunnelwire.h2.draining");
    private static final AttributeKey<AtomicInteger> OPEN_STREAMS = AttributeKey.valueOf("dev.tunnelwire.h2.streams");

    private final ClientStack stack;
    private final H2Settings settings;
    /** Connected, in order of creation. Guarded by {@code this}. */
    private final List<Channel> connections = new ArrayList<>();
    /** The connection being made, if any. Guarded by {@code this}. */
    private Future<Channel> connecting;
    private boolean closed;

    public H2ClientPool(ClientStack stack, H2Settings settings) {
        this.stack = stack;
        this.settings = settings;
    }

    /**
     * Opens a new stream on a pooled connection with a free slot (connecting first when there is none).
     * {@code streamHandler} is added to the stream's pipeline; nothing is written yet.
     */
    public Future<Http2StreamChannel> newStream(ChannelHandler streamHandler) {
        Promise<Http2StreamChannel> promise = stack.runtime().group().next().newPromise();
        Promise<Channel> slot = stack.runtime().group().next().newPromise();
        acquire(slot);
        slot.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            Channel conn = (Channel) f.getNow();
            AtomicInteger open = conn.attr(OPEN_STREAMS).get();
            new Http2StreamChannelBootstrap(conn).handler(streamHandler).open().addListener(s -> {
                if (s.isSuccess()) {
                    Http2StreamChannel stream = (Http2StreamChannel) s.getNow();
                    stream.closeFuture().addListener(c -> open.decrementAndGet());
                    if (!promise.trySuccess(stream)) {
                        stream.close();
                    }
                } else {
                    open.decrementAndGet();
                    promise.tryFailure(s.cause());
                }
            });
        });
        return promise;
    }

    /**
     * A usable connection (the oldest with a free slot, else a new one). Kept for callers that want the connection
     * itself; unlike {@link #newStream} it reserves no stream slot.
     */
    public Future<Channel> connection() {
        Promise<Channel> p = stack.runtime().group().next().newPromise();
        acquire(p);
        return p.addListener(f -> {
            if (f.isSuccess()) {
                ((Channel) f.getNow()).attr(OPEN_STREAMS).get().decrementAndGet();
            }
        });
    }

    /** For tests and diagnostics: the oldest connection in the pool, or {@code null}. */
    public synchronized Channel currentConnection() {
        prune();
        return connections.isEmpty() ? null : connections.get(0);
    }

    /** For tests and diagnostics: the number of connections in the pool. */
    public synchronized int connectionCount() {
        prune();
        return connections.size();
    }

    /** Completes {@code p} with a connection on which one stream slot has been reserved. */
    private void acquire(Promise<Channel> p) {
        Future<Channel> wait;
        synchronized (this) {
            if (closed) {
                p.tryFailure(new IllegalStateException("dialer closed"));
                return;
            }
            prune();
            for (Channel c : connections) {
                if (reserve(c)) {
                    p.trySuccess(c);
                    return;
                }
            }
            if (connecting == null) {
                Future<Channel> attempt = connect();
                connecting = attempt;
                // registered first, so it runs before the waiters below
                attempt.addListener(f -> {
                    synchronized (H2ClientPool.this) {
                        if (connecting == attempt) {
                            connecting = null;
                        }
                        if (f.isSuccess()) {
                            if (closed) {
                                ((Channel) f.getNow()).close();
                            } else {
                                connections.add((Channel) f.getNow());
                            }
                        }
                    }
                });
            }
            wait = connecting;
        }
        wait.addListener(f -> {
            if (f.isSuccess()) {
                acquire(p);
            } else {
                p.tryFailure(f.cause());
            }
        });
    }

    /** Drops closed and draining connections (draining ones finish their streams on their own). */
    private void prune() {
        connections.removeIf(c -> !c.isActive() || c.attr(DRAINING).get() != null);
    }

    /** Takes a stream slot of {@code c} if the server's limit allows one more stream. */
    private static boolean reserve(Channel c) {
        AtomicInteger open = c.attr(OPEN_STREAMS).get();
        int limit = streamLimit(c);
        while (true) {
            int n = open.get();
            if (n >= limit) {
                return false;
            }
            if (open.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** The server's SETTINGS_MAX_CONCURRENT_STREAMS as the codec knows it (unbounded until its SETTINGS arrive). */
    private static int streamLimit(Channel c) {
        Http2FrameCodec codec = c.pipeline().get(Http2FrameCodec.class);
        return codec == null ? 0 : codec.connection().local().maxActiveStreams();
    }

    private Future<Channel> connect() {
        Promise<Channel> promise = stack.runtime().group().next().newPromise();
        stack.connect().addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            Channel ch = (Channel) f.getNow();
            // Runs on the connection's event loop with autoRead off (ClientStack's contract).
            try {
                if (stack.tls()) {
                    String alpn = ClientStack.negotiatedProtocol(ch);
                    if (!ApplicationProtocolNames.HTTP_2.equals(alpn)) {
                        ch.close();
                        promise.tryFailure(new HandshakeException(
                                "server did not select ALPN h2 (selected: " + alpn + ")"));
                        return;
                    }
                }
                install(ch, settings);
                ch.attr(OPEN_STREAMS).set(new AtomicInteger());
                // usable once the server's SETTINGS (its stream limit) are known
                ch.pipeline().addAfter("tw-h2", AwaitServerSettings.NAME,
                        new AwaitServerSettings(promise, settings.prefaceTimeout().toMillis()));
                ClientStack.startReading(ch);
            } catch (Throwable t) {
                ch.close();
                promise.tryFailure(t);
            }
        });
        return promise;
    }

    /**
     * Adds the client codec, multiplexer, window raise, GOAWAY tracking and keepalive to a connected channel. Public
     * for dialers that run a private HTTP/2 connection over a carrier ({@code TunnelDialer.openOver}), which cannot
     * be pooled.
     */
    public static void install(Channel ch, H2Settings settings) {
        ch.pipeline().addLast("tw-h2", H2Codecs.client(settings));
        ch.pipeline().addLast("tw-h2-mux", new Http2MultiplexHandler(new RefuseInboundStreams()));
        ch.pipeline().addLast("tw-h2-window", H2Codecs.connectionWindow(settings));
        ch.pipeline().addLast("tw-h2-goaway", new GoAwayTracker());
        if (!settings.idleTimeout().isZero()) {
            ch.pipeline().addLast("tw-h2-keepalive", new H2KeepaliveHandler(settings.idleTimeout().toMillis(),
                    settings.pingTimeout().toMillis()));
        }
        ch.pipeline().addLast(H2ConnectionErrors.NAME, new H2ConnectionErrors("HTTP/2 client connection to "
                + ch.remoteAddress()));
    }

    @Override
    public synchronized void close() {
        closed = true;
        connections.forEach(Channel::close);
        connections.clear();
    }

    /**
     * Completes the connection's promise when the server's first SETTINGS frame has been read (so its
     * {@code SETTINGS_MAX_CONCURRENT_STREAMS} is known before streams are counted against it), then removes itself;
     * fails it when the connection closes first or the SETTINGS do not come within the timeout.
     */
    private static final class AwaitServerSettings extends ChannelInboundHandlerAdapter {
        static final String NAME = "tw-h2-await-settings";
        private final Promise<Channel> promise;
        private final long timeoutMillis;
        private io.netty.util.concurrent.ScheduledFuture<?> timer;

        AwaitServerSettings(Promise<Channel> promise, long timeoutMillis) {
            this.promise = promise;
            this.timeoutMillis = timeoutMillis;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            timer = ctx.executor().schedule(() -> {
                if (promise.tryFailure(new HandshakeException("no HTTP/2 SETTINGS from the server within "
                        + timeoutMillis + " ms"))) {
                    ctx.channel().close();
                }
            }, timeoutMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof io.netty.handler.codec.http2.Http2SettingsFrame) {
                ctx.pipeline().remove(this);
                ctx.fireChannelRead(msg);
                if (!promise.trySuccess(ctx.channel())) {
                    ctx.channel().close();
                }
                return;
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            promise.tryFailure(new HandshakeException("HTTP/2 connection closed before the server's SETTINGS"));
            ctx.fireChannelInactive();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            timer.cancel(false);
        }
    }

    /** Server-initiated streams (push) are disabled in our SETTINGS; any that arrive are closed. */
    @ChannelHandler.Sharable
    private static final class RefuseInboundStreams extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }

    /** Marks a connection that received GOAWAY so that the pool stops opening streams on it. */
    private static final class GoAwayTracker extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2GoAwayFrame) {
                ctx.channel().attr(DRAINING).set(Boolean.TRUE);
                ReferenceCountUtil.release(msg);
                return;
            }
            ctx.fireChannelRead(msg);
        }
    }
}
