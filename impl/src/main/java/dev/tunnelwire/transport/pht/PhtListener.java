package dev.tunnelwire.transport.pht;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ServerStack;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The PHT server: an HTTP/1.1 server (over TLS with ALPN {@code http/1.1} for {@code phts}) whose sessions are
 * tunnels. A connection must send its first request head within the handshake timeout; an idle keep-alive connection
 * is closed after {@value #KEEPALIVE_IDLE_SECONDS} s (longer than Go's 90 s client idle timeout, so a gost client
 * never reuses a connection we are closing for a non-replayable POST).
 */
final class PhtListener implements TunnelListener {

    static final int KEEPALIVE_IDLE_SECONDS = 120;
    /** A push body is one base64 line of at most 64 KiB; leave room for clients that send a little more. */
    static final int MAX_REQUEST_BODY = 256 * 1024;

    private final ServerStack stack;
    private final PhtOptions options;
    private final PhtSessions sessions;
    private final long keepAliveIdleMillis;

    PhtListener(TunnelRuntime runtime, ListenerConfig config, PhtOptions options) {
        this(runtime, config, options, TimeUnit.SECONDS.toMillis(KEEPALIVE_IDLE_SECONDS));
    }

    /** With another keep-alive idle limit (tests). */
    PhtListener(TunnelRuntime runtime, ListenerConfig config, PhtOptions options, long keepAliveIdleMillis) {
        this.keepAliveIdleMillis = keepAliveIdleMillis;
        this.stack = new ServerStack(runtime, config, List.of(ApplicationProtocolNames.HTTP_1_1), false);
        this.options = options;
        this.sessions = new PhtSessions(options.maxSessions());
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
        ch.pipeline().addLast("tw-pht-idle", new IdleStateHandler(0, 0, keepAliveIdleMillis, TimeUnit.MILLISECONDS));
        ch.pipeline().addLast("tw-pht-http", new HttpServerCodec());
        ch.pipeline().addLast("tw-pht-timeouts", new FirstRequestTimeout(options.handshakeTimeout().toMillis()));
        ch.pipeline().addLast("tw-pht-aggregator", new HttpObjectAggregator(MAX_REQUEST_BODY));
        ch.pipeline().addLast("tw-pht", new PhtServerHandler(options, sessions, initializer));
    }

    /** Number of live sessions (for tests and metrics). */
    int sessionCount() {
        return sessions.size();
    }

    @Override
    public InetSocketAddress localAddress() {
        return stack.localAddress();
    }

    @Override
    public String transport() {
        return PhtOptions.SCHEME;
    }

    @Override
    public void close() {
        stack.close();
    }

    /**
     * Closes a connection that sends no request head in time, and one that stays idle (no read or write) past the
     * keep-alive limit. Removes its timer after the first request.
     */
    private static final class FirstRequestTimeout extends ChannelDuplexHandler {
        private final long millis;
        private ScheduledFuture<?> timer;

        FirstRequestTimeout(long millis) {
            this.millis = millis;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            timer = ctx.executor().schedule(() -> {
                ctx.close();
            }, millis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest && timer != null) {
                timer.cancel(false);
                timer = null;
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent e && e.state() == IdleState.ALL_IDLE) {
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (timer != null) {
                timer.cancel(false);
            }
        }
    }
}
