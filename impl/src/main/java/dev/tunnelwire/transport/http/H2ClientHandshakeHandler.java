package dev.tunnelwire.transport.http;

import dev.tunnelwire.HandshakeException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * The client side of one HTTP/2 tunnel stream, in front of the {@link dev.tunnelwire.internal.h2.H2StreamAdapter}:
 * waits for the response HEADERS (skipping 1xx), requires {@code :status 200} and then removes itself; a response
 * that ends the stream at once is passed on so the adapter reports the end of input. Any other status, DATA before
 * HEADERS, or a reset before the response fires a {@link HandshakeException} and closes the stream.
 *
 * <p>The request HEADERS are written by the dialer before the application's handlers are installed; the tunnel is
 * usable right away (DATA may follow the HEADERS before the response arrives, as in Go's client).
 */
final class H2ClientHandshakeHandler extends ChannelInboundHandlerAdapter {

    static final String NAME = "tw-v2rayhttp-h2-client";

    private boolean failed;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (failed) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof Http2HeadersFrame headers) {
            CharSequence status = headers.headers().status();
            int code = parseStatus(status);
            if (code >= 100 && code < 200 && !headers.isEndStream()) {
                return; // informational, e.g. 100 Continue
            }
            if (code != HttpProtocol.OK) {
                fail(ctx, new HandshakeException("v2ray-http: unexpected status: " + status, code));
                return;
            }
            ctx.pipeline().remove(this);
            if (headers.isEndStream()) {
                ctx.fireChannelRead(headers);
            }
            return;
        }
        if (msg instanceof Http2DataFrame || msg instanceof Http2StreamFrame) {
            ReferenceCountUtil.release(msg);
            fail(ctx, new HandshakeException("v2ray-http: " + msg.getClass().getSimpleName()
                    + " before the response HEADERS"));
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame reset) {
            fail(ctx, new HandshakeException("v2ray-http: stream reset by the server before the response ("
                    + reset.errorCode() + ")"));
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private static int parseStatus(CharSequence status) {
        if (status == null) {
            return -1;
        }
        try {
            return Integer.parseInt(status.toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void fail(ChannelHandlerContext ctx, HandshakeException e) {
        failed = true;
        ctx.fireExceptionCaught(e);
        ctx.close();
    }
}
