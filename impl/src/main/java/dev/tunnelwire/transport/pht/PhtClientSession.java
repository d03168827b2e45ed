package dev.tunnelwire.transport.pht;

import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.TunnelException;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.ClientStack;
import dev.tunnelwire.internal.Establish;
import dev.tunnelwire.internal.SessionChannel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client side of one PHT tunnel: a control connection for authorize and pushes (one request at a time, never
 * pipelined: the server answers a push only once its bytes were consumed) and a pull connection that keeps exactly one
 * {@code GET pull} outstanding.
 *
 * <p>Pull: every non-empty line is decoded and handed to the tunnel; when a response ends having delivered at least one
 * line (a {@code "\n"} heartbeat counts) the next pull is sent at once; a response with no line means the server closed
 * the tunnel. When the application reads slower than lines arrive, the pull connection stops reading (the server then
 * stops writing on TCP backpressure). Push: one base64 line of at most {@code maxChunk} bytes per POST; the next only
 * after the previous answered 200. Close: an empty POST, which both gost v3.2.6 and newer servers take as close.
 *
 * <p>Threading: the tunnel channel is registered on the control connection's event loop; pull events hop onto it.
 */
final class PhtClientSession implements SessionChannel.Backend {

    private static final int MAX_UNDELIVERED = 16;
    private static final long CLOSE_POST_TIMEOUT_MILLIS = 2_000;

    private final ClientStack stack;
    private final PhtOptions options;
    private final String hostHeader;
    private Channel control;
    private Channel pullConn;
    private SessionChannel channel;
    private String token;
    private boolean pushInFlight;
    private boolean closing;
    private boolean remoteClosed;
    private final AtomicInteger undelivered = new AtomicInteger();

    PhtClientSession(ClientStack stack, PhtOptions options, String hostHeader) {
        this.stack = stack;
        this.options = options;
        this.hostHeader = hostHeader;
    }

    /** Authorizes, opens the pull connection and starts the tunnel. Takes ownership of {@code firstPayload}. */
    Future<Channel> start(ByteBuf firstPayload, TunnelInitializer init) {
        Promise<Channel> promise = stack.runtime().group().next().newPromise();
        promise.addListener(f -> {
            if (!f.isSuccess()) {
                ReferenceCountUtil.safeRelease(firstPayload);
                closeConnections();
            }
        });
        stack.connect().addListener(cf -> {
            if (!cf.isSuccess()) {
                promise.tryFailure(cf.cause());
                return;
            }
            control = (Channel) cf.getNow();
            control.pipeline().addLast("tw-pht-http", new HttpClientCodec());
            control.pipeline().addLast("tw-pht-aggregator", new HttpObjectAggregator(PhtListener.MAX_REQUEST_BODY));
            control.pipeline().addLast("tw-pht-exchange", new Exchange());
            ClientStack.startReading(control);
            control.closeFuture().addListener(x -> onConnectionLost("control connection closed"));
            var timeout = control.eventLoop().schedule(() -> promise.tryFailure(new HandshakeException(
                    "PHT authorize timed out after " + options.handshakeTimeout().toMillis() + " ms")),
                    options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
            promise.addListener(x -> timeout.cancel(false));
            exchange(request(HttpMethod.GET, options.authorizePath(), null)).addListener(rf -> {
                if (!rf.isSuccess()) {
                    promise.tryFailure(rf.cause());
                    return;
                }
                FullHttpResponse r = (FullHttpResponse) rf.getNow();
                try {
                    String body = r.content().toString(StandardCharsets.UTF_8);
                    if (r.status().code() != 200 || !body.startsWith(PhtProtocol.TOKEN_PREFIX)) {
                        promise.tryFailure(new HandshakeException("PHT authorize answered " + r.status()
                                + (body.isEmpty() ? "" : ": " + body.strip()), r.status().code()));
                        return;
                    }
                    token = body.substring(PhtProtocol.TOKEN_PREFIX.length());
                } finally {
                    r.release();
                }
                openPull(firstPayload, init, promise);
            });
        });
        return promise;
    }

    private void openPull(ByteBuf firstPayload, TunnelInitializer init, Promise<Channel> promise) {
        stack.connect().addListener(pf -> {
            if (!pf.isSuccess()) {
                promise.tryFailure(pf.cause());
                return;
            }
            pullConn = (Channel) pf.getNow();
            pullConn.pipeline().addLast("tw-pht-http", new HttpClientCodec());
            pullConn.pipeline().addLast("tw-pht-pull", new PullHandler());
            ClientStack.startReading(pullConn);
            pullConn.closeFuture().addListener(x -> onConnectionLost("pull connection closed"));
            control.eventLoop().execute(() -> {
                if (promise.isDone()) {
                    return;
                }
                channel = new SessionChannel(this, control.localAddress(), control.remoteAddress());
                channel.start(control.eventLoop()).addListener(sf -> {
                    if (!sf.isSuccess()) {
                        promise.tryFailure(sf.cause());
                        return;
                    }
                    TunnelInfo info = new TunnelInfo(PhtOptions.SCHEME, control.remoteAddress(),
                            control.localAddress(), hostHeader, options.pullPath(), null);
                    if (Establish.tunnel(channel, info, init, firstPayload, promise)) {
                        pullConn.writeAndFlush(pullRequest());
                    }
                });
            });
        });
    }

    private FullHttpRequest pullRequest() {
        return request(HttpMethod.GET, options.pullPath() + "?" + PhtProtocol.TOKEN_PARAM + "=" + token, null);
    }

    private FullHttpRequest request(HttpMethod method, String uri, ByteBuf body) {
        ByteBuf content = body == null ? Unpooled.EMPTY_BUFFER : body;
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, content);
        r.headers().set(HttpHeaderNames.HOST, hostHeader);
        r.headers().set(HttpHeaderNames.USER_AGENT, options.userAgent());
        if (method == HttpMethod.POST) {
            HttpUtil.setContentLength(r, content.readableBytes());
        }
        return r;
    }

    private Future<FullHttpResponse> exchange(FullHttpRequest r) {
        Exchange ex = control.pipeline().get(Exchange.class);
        if (ex == null) {
            r.release();
            return control.eventLoop().newFailedFuture(new TunnelException("PHT control connection closed"));
        }
        return ex.send(r);
    }

    @Override
    public void outboundReady(SessionChannel ch) {
        if (pushInFlight || closing || token == null) {
            return;
        }
        List<ByteBuf> parts = ch.takeOutbound(options.maxChunk());
        if (parts.isEmpty()) {
            return;
        }
        ByteBuf chunk = parts.size() == 1 ? parts.get(0)
                : ch.alloc().compositeBuffer(parts.size()).addComponents(true, parts);
        ByteBuf line;
        try {
            line = PhtProtocol.encodeLine(ch.alloc(), chunk);
        } finally {
            chunk.release();
        }
        pushInFlight = true;
        String uri = options.pushPath() + "?" + PhtProtocol.TOKEN_PARAM + "=" + token;
        exchange(request(HttpMethod.POST, uri, line)).addListener(f -> {
            pushInFlight = false;
            if (!f.isSuccess()) {
                ch.close();
                return;
            }
            FullHttpResponse r = (FullHttpResponse) f.getNow();
            int status = r.status().code();
            r.release();
            if (status != 200) {
                ch.close();
            } else if (closing) {
                sendClose();
            } else {
                ch.kick();
            }
        });
    }

    @Override
    public void closed(SessionChannel ch) {
        if (closing) {
            return;
        }
        closing = true;
        if (remoteClosed || control == null || !control.isActive()) {
            closeConnections();
        } else if (!pushInFlight) {
            sendClose();
        }
    }

    /** The empty POST that closes the session on the server, then both connections. */
    private void sendClose() {
        String uri = options.pushPath() + "?" + PhtProtocol.TOKEN_PARAM + "=" + token;
        Future<FullHttpResponse> f = exchange(request(HttpMethod.POST, uri, null));
        var timer = control.eventLoop().schedule(this::closeConnections, CLOSE_POST_TIMEOUT_MILLIS,
                TimeUnit.MILLISECONDS);
        f.addListener(x -> {
            timer.cancel(false);
            if (x.isSuccess()) {
                ((FullHttpResponse) x.getNow()).release();
            }
            closeConnections();
        });
    }

    private void closeConnections() {
        if (control != null) {
            control.close();
        }
        if (pullConn != null) {
            pullConn.close();
        }
    }

    private void onConnectionLost(String why) {
        SessionChannel ch = channel;
        if (ch != null && !ch.eventLoop().isShuttingDown()) {
            ch.eventLoop().execute(() -> {
                if (!closing) {
                    remoteClosed = true;
                    ch.close();
                }
            });
        }
    }

    private void remoteClosed() {
        SessionChannel ch = channel;
        ch.eventLoop().execute(() -> {
            remoteClosed = true;
            ch.close();
        });
    }

    /** One request at a time on the control connection; completes each with its aggregated response. */
    private static final class Exchange extends ChannelInboundHandlerAdapter {
        private final ArrayDeque<Promise<FullHttpResponse>> pending = new ArrayDeque<>();
        private ChannelHandlerContext ctx;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        Future<FullHttpResponse> send(FullHttpRequest r) {
            Promise<FullHttpResponse> p = ctx.executor().newPromise();
            ctx.executor().execute(() -> {
                pending.add(p);
                ctx.writeAndFlush(r).addListener(f -> {
                    if (!f.isSuccess()) {
                        pending.remove(p);
                        p.tryFailure(f.cause());
                    }
                });
            });
            return p;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Promise<FullHttpResponse> p = pending.poll();
            if (p == null || !(msg instanceof FullHttpResponse r)) {
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            if (!p.trySuccess(r)) {
                r.release();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            for (Promise<FullHttpResponse> p; (p = pending.poll()) != null; ) {
                p.tryFailure(new TunnelException("PHT control connection closed"));
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Reads pull responses as lines; sends the next pull when one ends with at least one line. */
    private final class PullHandler extends ChannelInboundHandlerAdapter {
        private ByteBuf partial;
        private int lines;
        private boolean ok;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpResponse r) {
                    ok = r.status().code() == 200;
                    lines = 0;
                    if (!ok) {
                        remoteClosed();
                        ctx.close();
                    }
                }
                if (ok && msg instanceof HttpContent c) {
                    append(ctx, c.content());
                    if (msg instanceof LastHttpContent) {
                        if (partial != null && partial.isReadable()) {
                            // A last line without "\n" (not sent by gost); decode it all the same.
                            line(ctx, partial.retainedSlice());
                        }
                        release();
                        if (lines == 0) {
                            remoteClosed();
                        } else if (!closing) {
                            ctx.writeAndFlush(pullRequest());
                        }
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void append(ChannelHandlerContext ctx, ByteBuf content) {
            if (!content.isReadable()) {
                return;
            }
            if (partial == null) {
                partial = ctx.alloc().buffer(content.readableBytes());
            }
            partial.writeBytes(content);
            int nl;
            while ((nl = partial.indexOf(partial.readerIndex(), partial.writerIndex(), (byte) '\n')) >= 0) {
                ByteBuf l = partial.readRetainedSlice(nl - partial.readerIndex());
                partial.skipBytes(1);
                line(ctx, l);
            }
            if (partial.readableBytes() > PhtProtocol.MAX_LINE) {
                release();
                remoteClosed();
                ctx.close();
                return;
            }
            partial.discardReadBytes();
        }

        private void line(ChannelHandlerContext ctx, ByteBuf l) {
            lines++;
            if (!l.isReadable()) {
                l.release();
                return;
            }
            ByteBuf data;
            try {
                data = PhtProtocol.decodeLine(ctx.alloc(), l);
            } catch (IllegalArgumentException e) {
                remoteClosed();
                ctx.close();
                return;
            } finally {
                l.release();
            }
            SessionChannel ch = channel;
            if (undelivered.incrementAndGet() > MAX_UNDELIVERED) {
                ctx.channel().config().setAutoRead(false);
            }
            Channel pc = ctx.channel();
            ch.eventLoop().execute(() -> ch.deliver(data, () -> {
                if (undelivered.decrementAndGet() <= MAX_UNDELIVERED / 4 && !pc.config().isAutoRead()) {
                    pc.eventLoop().execute(() -> {
                        pc.config().setAutoRead(true);
                        pc.read();
                    });
                }
            }));
        }

        private void release() {
            if (partial != null) {
                partial.release();
                partial = null;
            }
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            release();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
