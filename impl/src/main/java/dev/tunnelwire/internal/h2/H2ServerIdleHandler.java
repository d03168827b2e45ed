package dev.tunnelwire.internal.h2;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Server side of sing-box's {@code idle_timeout} (Go's {@code http2.Server.IdleTimeout}): a connection that has had
 * no active stream for {@code idleMillis} is closed gracefully, which makes the {@link Http2FrameCodec} send
 * GOAWAY(NO_ERROR) first. The timer starts when the connection is set up and whenever its last stream closes, and
 * stops while a stream is active. Sits after the frame codec on the connection pipeline.
 */
public final class H2ServerIdleHandler extends ChannelInboundHandlerAdapter {

    public static final String NAME = "tw-h2-idle";

    private final long idleMillis;
    private ScheduledFuture<?> timer;
    private boolean closed;

    public H2ServerIdleHandler(long idleMillis) {
        if (idleMillis <= 0) {
            throw new IllegalArgumentException("idleMillis must be positive: " + idleMillis);
        }
        this.idleMillis = idleMillis;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
        if (codec == null) {
            throw new IllegalStateException("H2ServerIdleHandler needs an Http2FrameCodec before it");
        }
        Http2Connection connection = codec.connection();
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamActive(Http2Stream stream) {
                cancel();
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
                if (connection.numActiveStreams() == 0) {
                    schedule(ctx, connection);
                }
            }
        });
        if (connection.numActiveStreams() == 0) {
            schedule(ctx, connection);
        }
    }

    private void schedule(ChannelHandlerContext ctx, Http2Connection connection) {
        cancel();
        if (closed) {
            return;
        }
        timer = ctx.executor().schedule(() -> {
            if (connection.numActiveStreams() == 0 && ctx.channel().isActive()) {
                ctx.channel().close();
            }
        }, idleMillis, TimeUnit.MILLISECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        closed = true;
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        cancel();
        ctx.fireChannelInactive();
    }
}
