package dev.tunnelwire.transport.http;

import dev.tunnelwire.HandshakeException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * The client side of the cleartext HTTP/1.1 handshake, in front of the application's handlers and behind an
 * {@link io.netty.handler.codec.http.HttpResponseDecoder} named {@link #DECODER}:
 * <ol>
 *   <li>The first write that passes (normally the dialer's first payload) leaves prefixed with the request head, in
 *       one buffer and thus one TCP write; {@link #sendRequest} sends the head alone when nothing was written while
 *       the tunnel was opened.</li>
 *   <li>The response head is parsed by the decoder; anything but status 200 fires a {@link HandshakeException} and
 *       closes the connection, as does no response within the timeout or the server's FIN before it.</li>
 *   <li>On 200 the decoder is removed at once, before it looks at the body, so that body framing headers
 *       ({@code Transfer-Encoding: chunked} from Go's server) are ignored and the bytes after the head are tunnel
 *       data. Those bytes are delivered in order, and only when the application reads (they are held while it has
 *       {@code autoRead} off). Then this handler removes itself.</li>
 * </ol>
 * Writes after the request pass untouched (the tunnel is usable at once, as sing-box's lazy connection is); reads
 * before the response head are issued by this handler even while the application has {@code autoRead} off, since
 * the head must be read to make progress.
 *
 * <p><b>Reference counting.</b> The head buffer is written (or released when the channel closes first); the decoder's
 * {@link HttpObject}s are released here; leftover bytes are handed to the application.
 */
final class H1ClientHandshakeHandler extends ChannelDuplexHandler {

    static final String NAME = "tw-v2rayhttp-client";
    static final String DECODER = "tw-v2rayhttp-decoder";

    private ByteBuf head;
    private final long timeoutMillis;
    private boolean requestSent;
    private boolean established;
    private boolean failed;
    /** The application asked for a read that has not been answered with a read-complete yet. */
    private boolean appWantsRead;
    private ByteBuf held;
    private boolean heldInputShutdown;
    private ScheduledFuture<?> timeout;

    /** @param head the request head (ownership taken) */
    H1ClientHandshakeHandler(ByteBuf head, long timeoutMillis) {
        this.head = head;
        this.timeoutMillis = timeoutMillis;
    }

    /** Sends the request head now if no write has carried it yet. Call on the event loop. */
    void sendRequest(ChannelHandlerContext ctx) {
        if (!requestSent && ctx.channel().isActive()) {
            requestSent = true;
            ByteBuf h = head;
            head = null;
            ctx.writeAndFlush(h);
            requestSent(ctx);
        }
    }

    private void requestSent(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> fail(ctx, new HandshakeException(
                "v2ray-http: no response within " + timeoutMillis + " ms")), timeoutMillis, TimeUnit.MILLISECONDS);
        if (!ctx.channel().config().isAutoRead()) {
            ctx.read();
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (requestSent || failed) {
            ctx.write(msg, promise);
            return;
        }
        requestSent = true;
        ByteBuf h = head;
        head = null;
        if (msg instanceof ByteBuf payload) {
            ctx.write(Unpooled.wrappedBuffer(h, payload), promise);
        } else {
            ctx.write(h);
            ctx.write(msg, promise);
        }
        requestSent(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (established) {
            if (msg instanceof ByteBuf buf) {
                if (appWantsRead || ctx.channel().config().isAutoRead()) {
                    ctx.fireChannelRead(buf);
                } else {
                    held = held == null ? buf : Unpooled.wrappedBuffer(held, buf);
                }
            } else {
                ReferenceCountUtil.release(msg); // the decoder's LastHttpContent of a bodiless response
            }
            return;
        }
        try {
            if (!(msg instanceof HttpResponse response)) {
                return; // content of a response we already failed
            }
            if (response.decoderResult().isFailure()) {
                fail(ctx, new HandshakeException("v2ray-http: malformed response: "
                        + response.decoderResult().cause(), -1, response.decoderResult().cause()));
                return;
            }
            int status = response.status().code();
            if (status != HttpProtocol.OK) {
                fail(ctx, new HandshakeException("v2ray-http: unexpected status: " + response.status(), status));
                return;
            }
            established = true;
            cancelTimeout();
            // Stops the decoder before the body: the bytes it still holds come back to us as raw ByteBufs.
            ChannelHandler decoder = ctx.pipeline().get(DECODER);
            if (decoder != null) {
                ctx.pipeline().remove(decoder);
            }
            // The decoder may still fire what it produced with the head (e.g. an empty LastHttpContent); step
            // aside once that is done.
            ctx.executor().execute(() -> removeWhenDrained(ctx));
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void removeWhenDrained(ChannelHandlerContext ctx) {
        if (held == null && !heldInputShutdown && !ctx.isRemoved()) {
            ctx.pipeline().remove(this);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!established) {
            if (!ctx.channel().config().isAutoRead() && requestSent) {
                ctx.read();
            }
            return;
        }
        appWantsRead = false;
        ctx.fireChannelReadComplete();
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (held != null || heldInputShutdown) {
            ByteBuf b = held;
            held = null;
            if (b != null) {
                ctx.fireChannelRead(b);
                appWantsRead = false;
                ctx.fireChannelReadComplete();
            }
            if (heldInputShutdown) {
                heldInputShutdown = false;
                ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            }
            removeWhenDrained(ctx);
            if (ctx.channel().config().isAutoRead()) {
                ctx.read(); // autoRead was just turned on: keep the socket reading after the held bytes
            }
            return;
        }
        appWantsRead = true;
        ctx.read();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            if (!established) {
                fail(ctx, new HandshakeException("v2ray-http: connection closed before the response"));
                return;
            }
            if (held != null) {
                heldInputShutdown = true; // delivered after the held bytes
                return;
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimeout();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimeout();
        ReferenceCountUtil.safeRelease(head);
        head = null;
        ReferenceCountUtil.safeRelease(held); // only when the pipeline is torn down (channel closed)
        held = null;
    }

    private void fail(ChannelHandlerContext ctx, HandshakeException e) {
        if (established || failed) {
            return;
        }
        failed = true;
        cancelTimeout();
        ctx.fireExceptionCaught(e);
        ctx.close();
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }
}
