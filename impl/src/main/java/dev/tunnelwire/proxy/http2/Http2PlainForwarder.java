package dev.tunnelwire.proxy.http2;

import dev.tunnelwire.Tunnels;
import dev.tunnelwire.internal.ServerSession;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.HandlerContext;
import dev.tunnelwire.proxy.Outbound;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A request other than CONNECT on gost's HTTP/2 proxy ({@code handler/http2} {@code forwardRequest}): sent to the
 * host of {@code :authority} (port 80 when none) as an HTTP/1.1 request in origin form with {@code Host} and
 * {@code Connection: close}, without {@code proxy-authorization}, {@code proxy-connection}, {@code gost-target} and
 * {@code x-gost-target}; the request body (the stream's DATA) follows, chunked unless it has a
 * {@code content-length}. The HTTP/1.1 response comes back as HEADERS (status and headers, lower-cased, without
 * connection-specific ones), DATA, and END_STREAM. An unreachable host gets {@code :status 503}.
 *
 * <p>The upstream connection is closed when its input ends (a half-closing socket would otherwise stay open) or its
 * response cannot be decoded. When it closes before its response is complete, the stream is answered with
 * {@code :status 503} and END_STREAM if no HEADERS were sent yet (gost: upstream errors are 503), else reset with
 * {@code INTERNAL_ERROR}, so that a cut-short body never looks complete; it is never ended with a DATA frame alone.
 *
 * <p>Reference counting: body buffers read from the stream are passed to the upstream request or released; response
 * contents are passed to the stream.
 */
final class Http2PlainForwarder extends ChannelInboundHandlerAdapter {

    private static final Set<String> REQUEST_DROP = Set.of("proxy-authorization", "proxy-connection", "gost-target",
            "x-gost-target", "connection", "keep-alive", "upgrade", "te", "transfer-encoding");
    private static final Set<String> RESPONSE_DROP = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "upgrade");

    private final Http2Headers request;
    private final HandlerContext context;
    private final ArrayDeque<Object> pending = new ArrayDeque<>();
    private Channel upstream;
    private boolean chunked;

    Http2PlainForwarder(Http2Headers request, HandlerContext context) {
        this.request = request;
        this.context = context;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        String authority = String.valueOf(request.authority() == null ? "" : request.authority());
        Destination target;
        try {
            target = Destination.parse(authority.lastIndexOf(':') > authority.lastIndexOf(']')
                    ? authority : authority + ":80");
        } catch (IllegalArgumentException e) {
            respondError(ctx.channel(), "400");
            return;
        }
        Channel stream = ctx.channel();
        context.outbound().connect(target, null).addListener(f -> {
            if (!f.isSuccess()) {
                ServerSession.warn(context, stream, Http2ProxyHandler.PROTOCOL, "cannot reach " + target, f.cause());
                stream.eventLoop().execute(() -> respondError(stream, "503"));
                return;
            }
            Channel up = (Channel) f.getNow();
            up.eventLoop().execute(() -> {
                up.pipeline().addBefore(Outbound.HOLD, "tw-http2-fwd-codec", new HttpClientCodec());
                up.pipeline().addBefore(Outbound.HOLD, "tw-http2-fwd-response", new ResponseToStream(stream));
                up.pipeline().remove(Outbound.HOLD);
                stream.eventLoop().execute(() -> connected(ctx, up));
            });
        });
    }

    private void connected(ChannelHandlerContext ctx, Channel up) {
        if (!ctx.channel().isActive()) {
            up.close();
            release();
            return;
        }
        upstream = up;
        stream(ctx.channel(), up);
        up.write(firstLine());
        for (Object o; (o = pending.poll()) != null; ) {
            forward(o);
        }
        up.flush();
    }

    private HttpRequest firstLine() {
        String path = request.path() == null ? "/" : request.path().toString();
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1,
                HttpMethod.valueOf(String.valueOf(request.method())), path);
        for (Map.Entry<CharSequence, CharSequence> e : request) {
            String name = e.getKey().toString().toLowerCase(Locale.ROOT);
            if (!name.startsWith(":") && !REQUEST_DROP.contains(name)) {
                r.headers().add(name, e.getValue());
            }
        }
        r.headers().set(HttpHeaderNames.HOST, String.valueOf(request.authority()));
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        chunked = !r.headers().contains(HttpHeaderNames.CONTENT_LENGTH) && !bodyless();
        if (chunked) {
            HttpUtil.setTransferEncodingChunked(r, true);
        }
        return r;
    }

    private boolean bodyless() {
        String m = String.valueOf(request.method());
        return m.equals("GET") || m.equals("HEAD") || m.equals("DELETE") || m.equals("OPTIONS");
    }

    private static void stream(Channel stream, Channel up) {
        stream.closeFuture().addListener(x -> up.close());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (upstream == null) {
            pending.add(msg);
        } else {
            forward(msg);
            upstream.flush();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            if (upstream == null) {
                pending.add(LastHttpContent.EMPTY_LAST_CONTENT);
            } else {
                forward(LastHttpContent.EMPTY_LAST_CONTENT);
                upstream.flush();
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void forward(Object msg) {
        if (msg instanceof ByteBuf b) {
            upstream.write(new DefaultHttpContent(b));
        } else if (msg instanceof LastHttpContent last) {
            upstream.write(last);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        for (Object o; (o = pending.poll()) != null; ) {
            ReferenceCountUtil.release(o);
        }
    }

    private static void respondError(Channel stream, String status) {
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status(status), true))
                .addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * The upstream HTTP/1.1 response, written to the stream as HEADERS, DATA and END_STREAM; how the stream ends when
     * the upstream ends first (see the class comment). Runs on the upstream's event loop; writes to the stream are
     * queued to the stream's loop in order.
     */
    private static final class ResponseToStream extends ChannelInboundHandlerAdapter {
        private final Channel stream;
        /** HEADERS were written to the stream. */
        private boolean answered;
        /** The response is complete and the stream's output ended. */
        private boolean complete;

        ResponseToStream(Channel stream) {
            this.stream = stream;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (complete || msg instanceof HttpObject o && o.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            if (msg instanceof HttpResponse r) {
                answered = true;
                Http2Headers h = new DefaultHttp2Headers().status(AsciiString.of(String.valueOf(r.status().code())));
                for (Map.Entry<String, String> e : r.headers()) {
                    String name = e.getKey().toLowerCase(Locale.ROOT);
                    if (!RESPONSE_DROP.contains(name)) {
                        h.add(name, e.getValue());
                    }
                }
                stream.write(new DefaultHttp2HeadersFrame(h, false));
            }
            if (msg instanceof HttpContent c) {
                if (c.content().isReadable()) {
                    stream.write(c.content().retain());
                }
                if (msg instanceof LastHttpContent) {
                    complete = true;
                    stream.writeAndFlush(Tunnels.SHUTDOWN_OUTPUT);
                    ctx.close();
                }
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            stream.flush();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                // The target sent its last byte (the codec before us has passed on the end of a close-delimited
                // response): nothing more can come.
                ctx.close();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (complete) {
                // the whole response is written, its END_STREAM included; the stream ends when the client has read
                // it (flow control may still hold part of it: closing now would reset the stream and cut it short)
                ctx.fireChannelInactive();
                return;
            }
            boolean headersSent = answered;
            stream.eventLoop().execute(() -> {
                if (!stream.isActive()) {
                    return;
                }
                if (!headersSent) {
                    respondError(stream, "503");
                } else {
                    stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR))
                            .addListener(ChannelFutureListener.CLOSE);
                }
            });
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
