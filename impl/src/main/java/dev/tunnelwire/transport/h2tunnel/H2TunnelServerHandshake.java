package dev.tunnelwire.transport.h2tunnel;

import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.Connections;
import dev.tunnelwire.internal.Establish;
import dev.tunnelwire.internal.h2.H2StreamAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;


/**
 * One-shot server handshake on an accepted stream (gost {@code listener/http2/h2} {@code upgrade}): without a
 * configured path only {@code CONNECT} is accepted (else {@code :status 405}); with a path, {@code :path} must equal
 * it exactly (else {@code :status 400}), whatever the method. On success answers {@code :status 200} at once (without
 * END_STREAM), replaces itself with an {@link H2StreamAdapter} and hands the stream to the initializer.
 *
 * <p>Reference counting: releases the request HEADERS and any frame before them.
 */
final class H2TunnelServerHandshake extends ChannelInboundHandlerAdapter {

    private final String path;
    private final TunnelInitializer initializer;

    H2TunnelServerHandshake(String path, TunnelInitializer initializer) {
        this.path = path;
        this.initializer = initializer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Http2HeadersFrame h)) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        Http2Headers req = h.headers();
        CharSequence method = req.method();
        if (path == null) {
            if (method == null || !HttpMethod.CONNECT.asciiName().contentEquals(method)) {
                reject(ctx, "405");
                return;
            }
        } else if (req.path() == null || !path.contentEquals(req.path())) {
            reject(ctx, "400");
            return;
        }
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false));
        ctx.pipeline().addAfter(ctx.name(), H2StreamAdapter.NAME, H2StreamAdapter.forServer());
        ctx.pipeline().remove(this);
        io.netty.handler.codec.http.HttpHeaders headers = dev.tunnelwire.internal.h2.H2Codecs.regularHeaders(req);
        TunnelInfo info = new TunnelInfo(H2TunnelOptions.SCHEME, Connections.clientAddress(ctx.channel()),
                ctx.channel().parent().localAddress(), req.authority() == null ? null : req.authority().toString(),
                req.path() == null ? null : req.path().toString(), headers);
        if (Establish.tunnel(ctx.channel(), info, initializer, null, null) && h.isEndStream()) {
            ctx.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }

    private static void reject(ChannelHandlerContext ctx, String status) {
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status(status), true));
    }
}
