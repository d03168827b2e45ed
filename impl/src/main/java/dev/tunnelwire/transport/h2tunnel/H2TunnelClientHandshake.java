package dev.tunnelwire.transport.h2tunnel;

import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.Establish;
import dev.tunnelwire.internal.h2.H2StreamAdapter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * One-shot client handshake on a new stream: sends the request HEADERS (without END_STREAM), waits for the response
 * HEADERS; on {@code :status 200} replaces itself with an {@link H2StreamAdapter} and establishes the tunnel, on any
 * other status (or a timeout, or the stream closing first) fails the dial with a {@link HandshakeException}.
 *
 * <p>Reference counting: releases the response HEADERS and any frame that arrives before them; the first payload is
 * owned until the tunnel is established (then written by {@link Establish}) or released on failure.
 */
final class H2TunnelClientHandshake extends ChannelInboundHandlerAdapter {

    private final Http2Headers request;
    private final TunnelInitializer initializer;
    private final Promise<io.netty.channel.Channel> promise;
    private final long timeoutMillis;
    private ByteBuf firstPayload;
    private ScheduledFuture<?> timeout;

    H2TunnelClientHandshake(Http2Headers request, TunnelInitializer initializer, ByteBuf firstPayload,
                            Promise<io.netty.channel.Channel> promise, long timeoutMillis) {
        this.request = request;
        this.initializer = initializer;
        this.firstPayload = firstPayload;
        this.promise = promise;
        this.timeoutMillis = timeoutMillis;
    }

    /** Writes the request; call on the stream's event loop once the handler is in the pipeline. */
    void start(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> fail(ctx, new HandshakeException(
                "h2 tunnel: no response within " + timeoutMillis + " ms")), timeoutMillis, TimeUnit.MILLISECONDS);
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(request, false)).addListener(f -> {
            if (!f.isSuccess()) {
                fail(ctx, new HandshakeException("h2 tunnel: cannot send the request", -1, f.cause()));
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Http2HeadersFrame h)) {
            ReferenceCountUtil.release(msg);
            fail(ctx, new HandshakeException("h2 tunnel: data before the response HEADERS"));
            return;
        }
        CharSequence status = h.headers().status();
        if (status == null || !"200".contentEquals(status)) {
            int code = -1;
            try {
                code = status == null ? -1 : Integer.parseInt(status.toString());
            } catch (NumberFormatException ignored) {
                // reported as -1
            }
            fail(ctx, new HandshakeException("h2 tunnel: server answered :status " + status, code));
            return;
        }
        cancelTimeout();
        ctx.pipeline().addAfter(ctx.name(), H2StreamAdapter.NAME, H2StreamAdapter.forClient());
        ctx.pipeline().remove(this);
        io.netty.handler.codec.http.HttpHeaders headers = dev.tunnelwire.internal.h2.H2Codecs.regularHeaders(h.headers());
        TunnelInfo info = new TunnelInfo(H2TunnelOptions.SCHEME, ctx.channel().parent().remoteAddress(),
                ctx.channel().parent().localAddress(), request.authority() == null ? null
                : request.authority().toString(), request.path() == null ? null : request.path().toString(), headers);
        ByteBuf first = firstPayload;
        firstPayload = null;
        if (Establish.tunnel(ctx.channel(), info, initializer, first, promise) && h.isEndStream()) {
            ctx.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, new HandshakeException("h2 tunnel: stream closed before the response"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, new HandshakeException("h2 tunnel: " + cause.getMessage(), -1, cause));
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimeout();
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        cancelTimeout();
        ReferenceCountUtil.safeRelease(firstPayload);
        firstPayload = null;
        if (promise.tryFailure(cause)) {
            ctx.close();
        }
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }
}
