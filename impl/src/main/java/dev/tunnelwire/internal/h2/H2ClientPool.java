package dev.tunnelwire.internal.h2;

import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.internal.ClientStack;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/**
 * One pooled HTTP/2 connection per dialer (that is, per server authority), shared by every tunnel of that dialer:
 * each tunnel is a new {@link Http2StreamChannel}.
 *
 * <ul>
 *   <li>The connection is made by the dialer's {@link ClientStack} (TCP or a carrier, PROXY header, TLS). With TLS the
 *       server must select ALPN {@code h2}; without TLS, HTTP/2 is spoken with prior knowledge (h2c).</li>
 *   <li>A connection that closed, or that received GOAWAY, is replaced on the next {@link #newStream}, never reused.
 *       Streams already open on a GOAWAY'd connection finish normally.</li>
 *   <li>With {@link H2Settings#idleTimeout()} set, {@link H2KeepaliveHandler} pings an idle connection and closes it
 *       when the PING is not acknowledged in time; its tunnels fail fast because stream channels close with their
 *       parent.</li>
 * </ul>
 * Thread-safe.
 */
public final class H2ClientPool implements AutoCloseable {

    private static final AttributeKey<Boolean> DRAINING = AttributeKey.valueOf("dev.tunnelwire.h2.draining");

    private final ClientStack stack;
    private final H2Settings settings;
    private Future<Channel> current;
    private boolean closed;

    public H2ClientPool(ClientStack stack, H2Settings settings) {
        this.stack = stack;
        this.settings = settings;
    }

    /**
     * Opens a new stream on the pooled connection (connecting first when there is none usable). {@code streamHandler}
     * is added to the stream's pipeline; nothing is written yet.
     */
    public Future<Http2StreamChannel> newStream(ChannelHandler streamHandler) {
        Promise<Http2StreamChannel> promise = stack.runtime().group().next().newPromise();
        connection().addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            Channel conn = (Channel) f.getNow();
            new Http2StreamChannelBootstrap(conn).handler(streamHandler).open().addListener(s -> {
                if (s.isSuccess()) {
                    promise.trySuccess((Http2StreamChannel) s.getNow());
                } else {
                    promise.tryFailure(s.cause());
                }
            });
        });
        return promise;
    }

    /** The current connection, or a new one when there is none or it is closed or draining. */
    public synchronized Future<Channel> connection() {
        if (closed) {
            return stack.runtime().group().next().newFailedFuture(new IllegalStateException("dialer closed"));
        }
        Future<Channel> c = current;
        if (c != null) {
            if (!c.isDone()) {
                return c;
            }
            if (c.isSuccess()) {
                Channel ch = c.getNow();
                if (ch.isActive() && ch.attr(DRAINING).get() == null) {
                    return c;
                }
            }
        }
        current = connect();
        return current;
    }

    /** For tests and diagnostics: the connection currently in the pool, or {@code null}. */
    public synchronized Channel currentConnection() {
        Future<Channel> c = current;
        return c != null && c.isSuccess() ? c.getNow() : null;
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
                ClientStack.startReading(ch);
                promise.trySuccess(ch);
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
    }

    @Override
    public synchronized void close() {
        closed = true;
        Future<Channel> c = current;
        current = null;
        if (c != null) {
            c.addListener(f -> {
                if (f.isSuccess()) {
                    ((Channel) f.getNow()).close();
                }
            });
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
