package dev.tunnelwire.internal.h2;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 connection health check (sing-box's {@code idle_timeout}/{@code ping_timeout}): when nothing was read for
 * {@code idleMillis}, send a PING; if its ACK does not arrive within {@code timeoutMillis}, close the connection.
 * Any frame read counts as activity. Sits after the frame codec on the connection pipeline.
 */
public final class H2KeepaliveHandler extends ChannelDuplexHandler {

    private final long idleMillis;
    private final long timeoutMillis;
    private long lastRead = System.nanoTime();
    private long outstanding = -1;
    private ScheduledFuture<?> tick;
    private ScheduledFuture<?> deadline;

    public H2KeepaliveHandler(long idleMillis, long timeoutMillis) {
        this.idleMillis = idleMillis;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        schedule(ctx, idleMillis);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        lastRead = System.nanoTime();
        if (msg instanceof Http2PingFrame ping && ping.ack()) {
            if (ping.content() == outstanding) {
                outstanding = -1;
                if (deadline != null) {
                    deadline.cancel(false);
                    deadline = null;
                }
            }
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void schedule(ChannelHandlerContext ctx, long delayMillis) {
        tick = ctx.executor().schedule(() -> onTick(ctx), delayMillis, TimeUnit.MILLISECONDS);
    }

    private void onTick(ChannelHandlerContext ctx) {
        if (!ctx.channel().isActive()) {
            return;
        }
        long idleFor = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastRead);
        if (idleFor >= idleMillis && outstanding < 0) {
            outstanding = System.nanoTime() & Long.MAX_VALUE;
            ctx.writeAndFlush(new DefaultHttp2PingFrame(outstanding));
            deadline = ctx.executor().schedule(() -> {
                if (outstanding >= 0) {
                    ctx.close();
                }
            }, timeoutMillis, TimeUnit.MILLISECONDS);
            schedule(ctx, idleMillis);
        } else {
            schedule(ctx, Math.max(1, idleMillis - idleFor));
        }
    }

    private void cancel() {
        if (tick != null) {
            tick.cancel(false);
        }
        if (deadline != null) {
            deadline.cancel(false);
        }
    }
}
