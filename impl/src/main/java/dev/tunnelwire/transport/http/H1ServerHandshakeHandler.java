package dev.tunnelwire.transport.http;

import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.Establish;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;

import java.util.Date;

/**
 * The server side of an HTTP/1.1 tunnel request, behind an {@link io.netty.handler.codec.http.HttpRequestDecoder} and
 * an {@link io.netty.handler.codec.http.HttpResponseEncoder}:
 * <ul>
 *   <li>validates host (400), path prefix (404), method (404) in sing-box's order; malformed requests get 400, too
 *       long ones 431/414; a rejection carries no body ({@code Content-Length: 0}) and closes the connection;</li>
 *   <li>accepts with {@code 200}, {@code Cache-Control: no-store}, the configured headers and {@code Date}, flushed at
 *       once; no {@code Content-Length} or {@code Transfer-Encoding}: what follows is the raw tunnel;</li>
 *   <li>then removes the encoder, runs the application's initializer and removes the decoder, which hands the bytes it
 *       holds behind the head (a {@code Content-Length} body, pipelined tunnel data: they are the same raw stream) to
 *       the application, in order, before anything read later. The decoder is stopped before it looks at a body, so
 *       no body framing is ever decoded. While the application has {@code autoRead} off (for example until it has
 *       connected upstream) those bytes, and a half-close behind them, are held until it reads.</li>
 * </ul>
 *
 * <p><b>Reference counting.</b> Decoder output is released here; raw bytes after acceptance are passed on.
 */
final class H1ServerHandshakeHandler extends ChannelDuplexHandler {

    static final String NAME = "tw-v2rayhttp-server";

    private enum State { WAITING, TUNNEL, REJECTED }

    private final HttpListener listener;
    private final TunnelInitializer initializer;
    private final Runnable cancelTimeout;
    private State state = State.WAITING;
    /** Bytes behind the head, held while the application has {@code autoRead} off and has not asked to read. */
    private ByteBuf held;
    private boolean heldInputShutdown;
    private boolean appWantsRead;

    H1ServerHandshakeHandler(HttpListener listener, TunnelInitializer initializer, Runnable cancelTimeout) {
        this.listener = listener;
        this.initializer = initializer;
        this.cancelTimeout = cancelTimeout;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.TUNNEL && msg instanceof ByteBuf buf) {
            if (held == null && (appWantsRead || ctx.channel().config().isAutoRead())) {
                ctx.fireChannelRead(buf);
            } else {
                held = held == null ? buf : Unpooled.wrappedBuffer(held, buf);
            }
            return;
        }
        try {
            if (state == State.WAITING && msg instanceof HttpRequest request) {
                cancelTimeout.run();
                handle(ctx, request);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void handle(ChannelHandlerContext ctx, HttpRequest request) {
        if (request.decoderResult().isFailure()) {
            Throwable cause = request.decoderResult().cause();
            reject(ctx, cause instanceof TooLongHttpHeaderException ? 431
                    : cause instanceof TooLongHttpLineException ? 414
                    : cause instanceof TooLongFrameException ? 431 : 400);
            return;
        }
        String target = request.uri();
        String host = HttpProtocol.absoluteAuthority(target);
        if (host == null) {
            host = request.headers().get(HttpHeaderNames.HOST);
        }
        if (host == null && request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            reject(ctx, 400); // Go: "missing required Host header"
            return;
        }
        String path = HttpProtocol.decodedPath(target);
        if (path == null) {
            reject(ctx, 400);
            return;
        }
        int status = HttpProtocol.validate(listener.options(), host, path, request.method().name());
        if (status != 0) {
            reject(ctx, status);
            return;
        }
        HttpResponse ok = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        ok.headers().set(HttpProtocol.responseHeaders(listener.options()));
        ctx.writeAndFlush(ok);
        state = State.TUNNEL;
        ctx.pipeline().remove(HttpListener.H1_ENCODER);
        TunnelInfo info = new TunnelInfo(HttpOptions.SCHEME, listener.clientAddress(ctx.channel(), request.headers()),
                ctx.channel().localAddress(), host, target, request.headers());
        if (!Establish.tunnel(ctx.channel(), info, initializer, null, null)) {
            return;
        }
        // Hands the bytes behind the head to us (and through us to the application), raw.
        ctx.pipeline().remove(HttpListener.H1_DECODER);
        // The decoder may still fire the empty LastHttpContent it produced with the head; step aside after that
        // (or, when bytes are held for an application that is not reading yet, once they are delivered).
        ctx.executor().execute(() -> removeWhenDrained(ctx));
    }

    private void removeWhenDrained(ChannelHandlerContext ctx) {
        if (held == null && !heldInputShutdown && !ctx.isRemoved()) {
            ctx.pipeline().remove(this);
        }
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (held != null || heldInputShutdown) {
            ByteBuf b = held;
            held = null;
            if (b != null) {
                ctx.fireChannelRead(b);
                ctx.fireChannelReadComplete();
            }
            if (heldInputShutdown) {
                heldInputShutdown = false;
                ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            }
            if (state == State.TUNNEL) {
                removeWhenDrained(ctx);
            }
            if (ctx.channel().config().isAutoRead()) {
                ctx.read(); // autoRead was just turned on: keep the socket reading after the held bytes
            }
            return;
        }
        appWantsRead = true;
        ctx.read();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.TUNNEL && held == null) {
            appWantsRead = false;
            ctx.fireChannelReadComplete();
        } else if (state == State.WAITING) {
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        ReferenceCountUtil.safeRelease(held); // only when the pipeline is torn down (channel closed)
        held = null;
    }

    private void reject(ChannelHandlerContext ctx, int status) {
        state = State.REJECTED;
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.EMPTY_BUFFER);
        // Go's spelling and order; unlike Go (which keeps the connection for another request) we close.
        r.headers().set("Date", DateFormatter.format(new Date()));
        r.headers().set("Content-Length", "0");
        r.headers().set("Connection", "close");
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            if (state != State.TUNNEL) {
                ctx.close();
                return;
            }
            if (held != null) {
                heldInputShutdown = true; // after the held bytes
                return;
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (state == State.TUNNEL) {
            ctx.fireExceptionCaught(cause);
        } else {
            ctx.close();
        }
    }
}
