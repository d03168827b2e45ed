package dev.tunnelwire.transport.http;

import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.Establish;
import dev.tunnelwire.internal.h2.H2StreamAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;

import java.util.Map;

/**
 * The server side of one HTTP/2 tunnel stream. On the request HEADERS it validates host ({@code :authority}, else
 * {@code host}; 400), decoded path prefix (404) and method (404) in sing-box's order; a rejection is a bodiless
 * HEADERS with END_STREAM (followed by RST_STREAM(NO_ERROR) when the client's side is still open, as Go's server
 * does). An accepted stream gets {@code :status 200}, {@code cache-control: no-store}, the configured headers and
 * {@code date} at once, before any data (the v2fly client waits for them), and becomes a tunnel: this handler
 * replaces itself with an {@link H2StreamAdapter} and runs the application's initializer; DATA read afterwards is
 * delivered after it. Request HEADERS that already end the stream are reported as the end of input.
 */
final class H2ServerStreamHandler extends ChannelInboundHandlerAdapter {

    static final String NAME = "tw-v2rayhttp-h2-server";

    private final HttpListener listener;
    private final TunnelInitializer initializer;

    H2ServerStreamHandler(HttpListener listener, TunnelInitializer initializer) {
        this.listener = listener;
        this.initializer = initializer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Http2HeadersFrame frame)) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        Http2Headers h = frame.headers();
        CharSequence authority = h.authority();
        if (authority == null) {
            authority = h.get("host");
        }
        String host = authority == null ? null : authority.toString();
        String target = h.path() == null ? "" : h.path().toString();
        String method = h.method() == null ? "" : h.method().toString();
        int status = HttpProtocol.validate(listener.options(), host, HttpProtocol.decodedPath(target), method);
        if (status != 0) {
            ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status(Integer.toString(status)), true));
            if (!frame.isEndStream()) {
                ctx.write(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
            }
            ctx.flush();
            ctx.close();
            return;
        }
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(HttpProtocol.responseHeaders2(listener.options()), false));
        HttpHeaders requestHeaders = new DefaultHttpHeaders();
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            if (e.getKey().length() > 0 && e.getKey().charAt(0) != ':') {
                requestHeaders.add(e.getKey(), e.getValue());
            }
        }
        Http2StreamChannel stream = (Http2StreamChannel) ctx.channel();
        H2StreamAdapter adapter = H2StreamAdapter.forServer();
        ctx.pipeline().replace(this, H2StreamAdapter.NAME, adapter);
        TunnelInfo info = new TunnelInfo(HttpOptions.SCHEME, listener.clientAddress(stream, requestHeaders),
                stream.localAddress(), host, target, requestHeaders);
        if (Establish.tunnel(stream, info, initializer, null, null) && frame.isEndStream()) {
            adapter.endOfInputOnRead(stream.pipeline().context(adapter));
        }
    }
}
