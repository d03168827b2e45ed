package dev.tunnelwire.transport.pht;

import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.Connections;
import dev.tunnelwire.internal.Establish;
import dev.tunnelwire.internal.SessionChannel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Routes the requests of one PHT server connection: authorize, pull, push; anything else is {@code 404} with Go's
 * {@code "404 page not found\n"} body. Statuses as gost v3.2.6 answers them: pull with a method other than GET and
 * push with one other than POST get 400; an unknown token gets 403, except that a plausible token the server never
 * issued creates its session lazily (gost nightly clients make their own tokens); a full listener answers 429.
 *
 * <p>Reference counting: releases each request; the push body is handed to the session.
 */
final class PhtServerHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(PhtServerHandler.class);
    private static final AttributeKey<PhtServerSession> PULLING = AttributeKey.valueOf("dev.tunnelwire.pht.pulling");

    private final PhtOptions options;
    private final PhtSessions sessions;
    private final TunnelInitializer initializer;

    PhtServerHandler(PhtOptions options, PhtSessions sessions, TunnelInitializer initializer) {
        super(false);
        this.options = options;
        this.sessions = sessions;
        this.initializer = initializer;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        try {
            if (!ctx.channel().isActive()) {
                // Decoded as the connection went away (a request cut off by the close): nobody to answer. (Under
                // EmbeddedChannel, which runs deferred tasks inside a write, answering it re-entered the HTTP encoder
                // and released a buffer twice: PhtFuzzTest, answer_after_close_reentrant_write.)
                return;
            }
            if (ctx.channel().attr(PULLING).get() != null) {
                // Pipelined behind an open pull: its answer cannot go out before the pull's streamed response has
                // ended; writing it made the HTTP encoder fail mid-stream ("unexpected message type") and release a
                // buffer twice (PhtFuzzTest, request_pipelined_behind_pull). gost clients never do this: close.
                ctx.close();
                return;
            }
            if (!req.decoderResult().isSuccess()) {
                respond(ctx, HttpResponseStatus.BAD_REQUEST, null, false);
                return;
            }
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            String path = q.path();
            List<String> tokens = q.parameters().get(PhtProtocol.TOKEN_PARAM);
            String token = tokens == null || tokens.isEmpty() ? "" : tokens.get(0);
            if (path.equals(options.authorizePath())) {
                authorize(ctx, req, keepAlive);
            } else if (path.equals(options.pullPath())) {
                if (!HttpMethod.GET.equals(req.method())) {
                    respond(ctx, HttpResponseStatus.BAD_REQUEST, null, keepAlive);
                    return;
                }
                PhtServerSession s = session(ctx, req, token);
                if (s == null) {
                    if (sessions.wasClosed(token)) {
                        respondClosedPull(ctx, keepAlive);
                    } else {
                        respond(ctx, HttpResponseStatus.FORBIDDEN, null, keepAlive);
                    }
                    return;
                }
                ctx.channel().attr(PULLING).set(s);
                s.loop().execute(() -> s.pull(ctx, keepAlive));
            } else if (path.equals(options.pushPath())) {
                if (!HttpMethod.POST.equals(req.method())) {
                    respond(ctx, HttpResponseStatus.BAD_REQUEST, null, keepAlive);
                    return;
                }
                PhtServerSession s = session(ctx, req, token);
                if (s == null) {
                    respond(ctx, sessions.wasClosed(token) ? HttpResponseStatus.GONE : HttpResponseStatus.FORBIDDEN,
                            null, keepAlive);
                    return;
                }
                ByteBuf body = req.content().retain();
                s.loop().execute(() -> s.push(ctx, body, keepAlive));
            } else {
                respond(ctx, HttpResponseStatus.NOT_FOUND, PhtProtocol.NOT_FOUND_BODY, keepAlive);
            }
        } finally {
            req.release();
        }
    }

    private void authorize(ChannelHandlerContext ctx, FullHttpRequest req, boolean keepAlive) {
        PhtServerSession s = create(ctx, req, PhtProtocol.newToken());
        if (s == null) {
            respond(ctx, HttpResponseStatus.TOO_MANY_REQUESTS, null, keepAlive);
            return;
        }
        respond(ctx, HttpResponseStatus.OK, PhtProtocol.TOKEN_PREFIX + s.token(), keepAlive);
    }

    /** The live session for {@code token}; a plausible token never seen before creates one (nightly clients). */
    private PhtServerSession session(ChannelHandlerContext ctx, FullHttpRequest req, String token) {
        PhtServerSession s = sessions.get(token);
        if (s != null || !PhtProtocol.isPlausibleToken(token) || sessions.wasClosed(token)) {
            return s;
        }
        return create(ctx, req, token);
    }

    private PhtServerSession create(ChannelHandlerContext ctx, FullHttpRequest req, String token) {
        PhtServerSession s = new PhtServerSession(token, options, sessions);
        PhtServerSession registered = sessions.add(s);
        if (registered != s) {
            return registered;
        }
        SessionChannel ch = new SessionChannel(s, ctx.channel().localAddress(),
                Connections.clientAddress(ctx.channel()));
        s.attach0(ch, ctx.channel().eventLoop());
        TunnelInfo info = new TunnelInfo(PhtOptions.SCHEME, Connections.clientAddress(ctx.channel()),
                ctx.channel().localAddress(), req.headers().get(HttpHeaderNames.HOST), req.uri(),
                req.headers().copy());
        ch.start(ctx.channel().eventLoop()).addListener(f -> {
            if (f.isSuccess()) {
                s.attach(ch);
                Establish.tunnel(ch, info, initializer, null, null);
            } else {
                log.warn("cannot start PHT session {}", token, f.cause());
                ch.close();
            }
        });
        return s;
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        PhtServerSession s = ctx.channel().attr(PULLING).get();
        if (s != null && ctx.channel().isWritable()) {
            s.loop().execute(s::writable);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        PhtServerSession s = ctx.channel().attr(PULLING).getAndSet(null);
        if (s != null) {
            s.loop().execute(() -> s.connectionClosed(ctx));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("PHT connection {} failed", ctx.channel(), cause);
        ctx.close();
    }

    /** A pull ended on {@code ctx}'s connection; the connection may carry other requests now. */
    static void pullEnded(ChannelHandlerContext ctx) {
        ctx.channel().attr(PULLING).set(null);
    }

    private static void respondClosedPull(ChannelHandlerContext ctx, boolean keepAlive) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        send(ctx, r, keepAlive);
    }

    /** A complete response; a text body is sent as Go's http.Error/NotFound would. */
    static void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String body, boolean keepAlive) {
        ByteBuf content = body == null ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        if (body != null) {
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            if (status.code() >= 400) {
                r.headers().set("X-Content-Type-Options", "nosniff");
            }
        }
        HttpUtil.setContentLength(r, content.readableBytes());
        send(ctx, r, keepAlive);
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(r);
        }
    }
}
