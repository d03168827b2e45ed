package dev.tunnelwire.proxy.http;

import dev.tunnelwire.internal.ServerSession;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.HandlerContext;
import dev.tunnelwire.proxy.Outbound;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * Forwards absolute-URI requests on one client connection, one at a time: each request gets its own upstream
 * connection (asked for {@code Connection: close}); the response is decoded and re-encoded towards the client, whose
 * connection stays open for the next request unless the client asked to close or the response is close-delimited.
 * Requests the client pipelines are queued until the previous response is complete. Backpressure both ways by
 * {@code autoRead}. Protocol switches ({@code 101}) are not supported: the upstream's 101 is answered with 502.
 *
 * <p>Ends of input: tunnels and upstream connections may allow half-closure, where the peer's close arrives only as a
 * {@link ChannelInputShutdownEvent} and the socket stays open until closed here.
 * <ul>
 *   <li>The client's end of input ({@link #inputShutdown()}): between requests the client connection is closed at
 *       once; with a request in flight its response (and the responses of requests already queued) are still sent,
 *       then the connection is closed, as gost's loop does when its next read ends; with a request whose body is
 *       unfinished both connections are closed (the request can never be completed).</li>
 *   <li>The upstream's end of input closes the upstream connection: the codec has already passed on the end of a
 *       close-delimited response; without a response yet the client gets gost's {@code 503} (peer-gost.md 2.6) and
 *       the connection is closed, and a response cut short closes the client connection. A response the codec
 *       cannot decode is treated the same way.</li>
 * </ul>
 *
 * <p>Reference counting: queued messages are owned here until written upstream or released on close.
 */
final class PlainForwarder {

    static final String ENCODER = "tw-http-response-encoder";

    private final HandlerContext hc;
    private final HttpHandlerOptions options;
    private final ChannelHandlerContext ctx;
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private Channel upstream;
    private boolean busy;
    private boolean requestDone;
    private boolean responseStarted;
    private boolean closeAfter;
    private boolean closed;
    /** The last message read from the client ended a request (no request body is unfinished). */
    private boolean requestComplete = true;
    /** The client will send nothing more: close once the responses owed are out. */
    private boolean inputEnded;

    PlainForwarder(HandlerContext hc, HttpHandlerOptions options, ChannelHandlerContext ctx) {
        this.hc = hc;
        this.options = options;
        this.ctx = ctx;
        ctx.pipeline().addBefore(ctx.name(), ENCODER, new HttpResponseEncoder());
    }

    /** A request head (already rewritten to origin form) for {@code dst}, or a body part of the current request. */
    void read(Object msg, Destination dst) {
        if (closed) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest) {
            requestComplete = false;
        }
        if (msg instanceof LastHttpContent) {
            requestComplete = true;
        }
        if (busy && (upstream == null || requestDone || msg instanceof HttpRequest)) {
            queue.add(msg instanceof HttpRequest ? new Pending((HttpRequest) msg, dst) : msg);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        if (msg instanceof HttpRequest req) {
            start(req, dst);
            return;
        }
        if (!busy || upstream == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        upstream.write(msg);
        if (msg instanceof LastHttpContent) {
            requestDone = true;
            upstream.flush();
            ctx.channel().config().setAutoRead(false);
        } else if (!upstream.isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    void readComplete() {
        if (upstream != null && !closed) {
            upstream.flush();
        }
    }

    private record Pending(HttpRequest request, Destination destination) {
    }

    private void start(HttpRequest req, Destination dst) {
        busy = true;
        requestDone = false;
        responseStarted = false;
        closeAfter = !HttpUtil.isKeepAlive(req);
        req.headers().set("Connection", "close");
        queue.addFirst(req);
        ctx.channel().config().setAutoRead(false);
        Future<Channel> f = hc.outbound().connect(dst, null);
        f.addListener(x -> ctx.executor().execute(() -> connected(f, dst)));
    }

    private void connected(Future<Channel> f, Destination dst) {
        if (!f.isSuccess()) {
            if (closed) {
                return;
            }
            ServerSession.warn(hc, ctx.channel(), HttpHandler.PROTOCOL, "cannot connect to " + dst, f.cause());
            fail(HttpHandler.serviceUnavailable(options));
            return;
        }
        Channel up = f.getNow();
        if (closed) {
            up.close();
            return;
        }
        upstream = up;
        up.pipeline().addLast("tw-http-client-codec", new HttpClientCodec());
        up.pipeline().addLast("tw-http-upstream", new Upstream());
        up.pipeline().remove(Outbound.HOLD);
        up.config().setAutoRead(true);
        // write the request head and any body parts that arrived meanwhile (up to the next request)
        Object m;
        while ((m = queue.peek()) != null && !(m instanceof Pending)) {
            queue.poll();
            up.write(m);
            if (m instanceof LastHttpContent) {
                requestDone = true;
            }
        }
        up.flush();
        up.closeFuture().addListener(x -> ctx.executor().execute(() -> upstreamClosed(up)));
        if (!requestDone) {
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        }
    }

    /** The current response is complete: next request, or close. */
    private void responseDone() {
        Channel up = upstream;
        upstream = null;
        busy = false;
        if (up != null) {
            up.close();
        }
        if (closeAfter) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            closed = true;
            releaseQueue();
            return;
        }
        Object m = queue.poll();
        if (m instanceof Pending p) {
            start(p.request(), p.destination());
            return;
        }
        ReferenceCountUtil.release(m);
        if (inputEnded) {
            closeClient();
            return;
        }
        ctx.channel().config().setAutoRead(true);
        ctx.read();
    }

    /**
     * The client sent its last byte (see the class comment): close now when no response is owed, or when the
     * request being received can no longer be completed; otherwise {@link #responseDone()} closes.
     */
    void inputShutdown() {
        if (closed) {
            return;
        }
        inputEnded = true;
        if (!busy) {
            closeClient();
        } else if (!requestComplete) {
            closed = true;
            releaseQueue();
            if (upstream != null) {
                upstream.close();
            }
            ctx.close();
        }
    }

    /** Closes the client connection after what was written to it. */
    private void closeClient() {
        closed = true;
        releaseQueue();
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    /** An upstream connection closed; only the one of the exchange in flight matters. */
    private void upstreamClosed(Channel up) {
        if (up != upstream || !busy || closed) {
            return;
        }
        if (!responseStarted) {
            fail(HttpHandler.serviceUnavailable(options));
        } else {
            // truncated response: end the client connection too
            closeClient();
        }
    }

    private void fail(String response) {
        if (closed) {
            return;
        }
        closed = true;
        releaseQueue();
        if (upstream != null) {
            upstream.close();
        }
        removeEncoder();
        ctx.writeAndFlush(Unpooled.wrappedBuffer(response.getBytes(StandardCharsets.ISO_8859_1)))
                .addListener(ChannelFutureListener.CLOSE);
    }

    /** Removes the response encoder (before raw bytes are written), when it is still there. */
    void removeEncoder() {
        if (ctx.pipeline().get(ENCODER) != null) {
            ctx.pipeline().remove(ENCODER);
        }
    }

    void inboundClosed() {
        closed = true;
        releaseQueue();
        if (upstream != null) {
            upstream.close();
        }
    }

    void inboundWritable() {
        if (upstream != null && ctx.channel().isWritable() && !upstream.config().isAutoRead()) {
            upstream.config().setAutoRead(true);
            upstream.read();
        }
    }

    private void releaseQueue() {
        Object m;
        while ((m = queue.poll()) != null) {
            ReferenceCountUtil.release(m instanceof Pending p ? p.request() : m);
        }
    }

    /** Upstream response parts go to the client; the end of the response finishes the exchange. */
    private final class Upstream extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext upCtx, Object msg) {
            if (ctx.executor().inEventLoop()) {
                onResponse(upCtx, msg);
            } else {
                ctx.executor().execute(() -> onResponse(upCtx, msg));
            }
        }

        private void onResponse(ChannelHandlerContext upCtx, Object msg) {
            if (closed || !(msg instanceof HttpObject) || upCtx.channel() != upstream) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (((HttpObject) msg).decoderResult().isFailure()) {
                // not HTTP, or broken HTTP: an upstream error, as if the target had closed (503 before a response)
                ServerSession.warn(hc, ctx.channel(), HttpHandler.PROTOCOL, "bad upstream response",
                        ((HttpObject) msg).decoderResult().cause());
                ReferenceCountUtil.release(msg);
                upCtx.close();
                return;
            }
            if (msg instanceof HttpResponse r) {
                if (r.status().code() == 101) {
                    ReferenceCountUtil.release(msg);
                    ServerSession.warn(hc, ctx.channel(), HttpHandler.PROTOCOL,
                            "upstream switched protocols; not supported by the plain proxy", null);
                    fail("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n");
                    return;
                }
                if (r.status().code() >= 200) {
                    responseStarted = true;
                    boolean delimited = HttpUtil.isContentLengthSet(r) || HttpUtil.isTransferEncodingChunked(r)
                            || r.status().code() == 204 || r.status().code() == 304;
                    if (!delimited) {
                        closeAfter = true;
                    }
                    if (closeAfter) {
                        r.headers().set("Connection", "close");
                    } else {
                        r.headers().remove(HttpHeaderNames.CONNECTION);
                    }
                }
            }
            boolean last = msg instanceof LastHttpContent && responseStarted;
            ctx.write(msg);
            if (last) {
                ctx.flush();
                responseDone();
            } else if (!ctx.channel().isWritable()) {
                upCtx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext upCtx) {
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext upCtx) {
            if (upCtx.channel().isWritable() && !requestDone) {
                ctx.executor().execute(() -> {
                    ctx.channel().config().setAutoRead(true);
                    ctx.read();
                });
            }
            upCtx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext upCtx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                // The target sent its last byte (the codec before us has passed on the end of a close-delimited
                // response): nothing more can come, and a half-closing socket would otherwise stay open.
                upCtx.close();
            }
            upCtx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext upCtx, Throwable cause) {
            ServerSession.warn(hc, ctx.channel(), HttpHandler.PROTOCOL, "upstream failed", cause);
            upCtx.close();
        }
    }

}
