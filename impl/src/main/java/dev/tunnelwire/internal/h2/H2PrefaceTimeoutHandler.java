package dev.tunnelwire.internal.h2;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Server side: closes a connection that has not sent the HTTP/2 client preface and its first SETTINGS within the
 * preface timeout of being accepted (slowloris on the preface, or a client that connects and says nothing). Sits
 * right after the {@link io.netty.handler.codec.http2.Http2FrameCodec}, which turns the preface's SETTINGS into an
 * {@link Http2SettingsFrame}; at that frame the handler passes it on and removes itself. It holds no buffers.
 */
final class H2PrefaceTimeoutHandler extends ChannelInboundHandlerAdapter {

    static final String NAME = "tw-h2-preface";
    private static final Logger log = LoggerFactory.getLogger(H2PrefaceTimeoutHandler.class);

    private final long timeoutMillis;
    private ScheduledFuture<?> timer;

    H2PrefaceTimeoutHandler(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> {
            if (ctx.channel().isActive()) {
                log.info("HTTP/2 connection from {} closed: no client preface within {} ms",
                        ctx.channel().remoteAddress(), timeoutMillis);
                ctx.channel().close();
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2SettingsFrame) {
            ctx.pipeline().remove(this);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
