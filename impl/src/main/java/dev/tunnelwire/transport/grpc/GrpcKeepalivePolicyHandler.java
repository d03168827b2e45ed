package dev.tunnelwire.transport.grpc;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2PingFrame;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Server keepalive enforcement, as grpc-go's {@code EnforcementPolicy}: a client PING that arrives sooner than
 * {@code minTime} after the previous one (or any PING while no call is open, unless permitted) is a strike; the
 * third strike gets GOAWAY {@code ENHANCE_YOUR_CALM} with debug data {@code too_many_pings} and the connection is
 * closed. Sending DATA or HEADERS resets the count (a busy connection may ping freely: grpc-go clients send a
 * bandwidth-estimation PING after receiving data); a frame counts as sent once it has been written to the
 * connection, not when it is queued behind flow control. PINGs are acknowledged by the
 * frame codec; this handler only counts them.
 *
 * <p>Sits on the connection pipeline between the frame codec and the multiplexer, so that it sees inbound PINGs and
 * the outbound stream frames of every call.
 */
final class GrpcKeepalivePolicyHandler extends ChannelDuplexHandler {

    static final int MAX_PING_STRIKES = 2;
    /** grpc-go's interval for "no pings without calls": two hours. */
    private static final long NO_CALLS_INTERVAL_NANOS = TimeUnit.HOURS.toNanos(2);

    private final long minTimeNanos;
    private final boolean permitWithoutCalls;
    private long lastPing;
    private boolean havePinged;
    private boolean resetStrikes;
    private int strikes;

    GrpcKeepalivePolicyHandler(long minTimeNanos, boolean permitWithoutCalls) {
        this.minTimeNanos = minTimeNanos;
        this.permitWithoutCalls = permitWithoutCalls;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof Http2PingFrame ping && !ping.ack()) {
            onPing(ctx, System.nanoTime());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof Http2DataFrame || msg instanceof Http2HeadersFrame) {
            // Like grpc-go, which resets when its writer puts the frame on the wire: a frame queued behind flow
            // control has not been sent yet, and the client's BDP pings follow the data it actually received.
            ChannelPromise p = promise.unvoid();
            p.addListener(f -> resetStrikes = true);
            ctx.write(msg, p);
            return;
        }
        ctx.write(msg, promise);
    }

    private void onPing(ChannelHandlerContext ctx, long now) {
        if (resetStrikes) {
            resetStrikes = false;
            strikes = 0;
            lastPing = now;
            havePinged = true;
            return;
        }
        boolean noCalls = activeStreams(ctx) == 0;
        long allowed = noCalls && !permitWithoutCalls ? NO_CALLS_INTERVAL_NANOS : minTimeNanos;
        if (havePinged && now - lastPing < allowed) {
            strikes++;
            if (strikes > MAX_PING_STRIKES) {
                ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.ENHANCE_YOUR_CALM,
                        Unpooled.copiedBuffer("too_many_pings", StandardCharsets.US_ASCII)))
                        .addListener(ChannelFutureListener.CLOSE);
            }
        }
        lastPing = now;
        havePinged = true;
    }

    private static int activeStreams(ChannelHandlerContext ctx) {
        Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
        return codec == null ? 0 : codec.connection().numActiveStreams();
    }
}
