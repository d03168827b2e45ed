package dev.tunnelwire.transport.ws;

import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.Establish;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * The dialer's one-shot WebSocket upgrade: sits behind {@link io.netty.handler.codec.http.HttpResponseDecoder}
 * ({@value WsProtocol#HTTP_DECODER}) and {@link io.netty.handler.codec.http.HttpRequestEncoder}
 * ({@value WsProtocol#HTTP_ENCODER}); sends the request when added, then checks the response:
 * <ul>
 *   <li>status 101, else {@link HandshakeException} with that status;</li>
 *   <li>{@code Upgrade} contains {@code websocket}, {@code Connection} contains {@code upgrade}, and
 *       {@code Sec-WebSocket-Accept} matches the key, else {@link HandshakeException} (status 101);</li>
 *   <li>{@code Sec-WebSocket-Protocol} absent, or equal to what was sent (sing-box and gost never echo, Xray
 *       does); no {@code Sec-WebSocket-Extensions} (none was offered).</li>
 * </ul>
 * On success it replaces the HTTP codec with the frame codec and itself with a {@link WsStreamAdapter}, runs the
 * tunnel initializer, sends the part of the first payload that did not ride in the handshake, and finally removes the
 * HTTP decoder, which hands any bytes the server sent right after the 101 to the frame decoder. Without a 101 within
 * the handshake timeout the connection is closed and the open fails.
 *
 * <p>Buffers: owns {@code rest} (the first payload's remainder) until it is handed to the tunnel or released on
 * failure; releases the response and its contents.
 */
final class WsClientHandshakeHandler extends ChannelInboundHandlerAdapter {

    private final WsOptions options;
    private final FullHttpRequest request;
    private final String expectedAccept;
    private final String sentProtocol;
    private final TunnelInitializer initializer;
    private final Promise<Channel> promise;
    private ByteBuf rest;
    private ScheduledFuture<?> timeout;
    private HttpResponse response;
    private boolean done;

    /**
     * @param request      the upgrade request; sent (and released) when this handler is added
     * @param sentProtocol the {@code Sec-WebSocket-Protocol} value in the request, or {@code null}
     * @param rest         first-payload bytes to send as a frame after the 101, or {@code null}; ownership taken
     */
    WsClientHandshakeHandler(WsOptions options, FullHttpRequest request, String sentProtocol, ByteBuf rest,
                             TunnelInitializer initializer, Promise<Channel> promise) {
        this.options = options;
        this.request = request;
        this.expectedAccept = WsProtocol.acceptKey(request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY));
        this.sentProtocol = sentProtocol;
        this.rest = rest;
        this.initializer = initializer;
        this.promise = promise;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> fail(ctx, new HandshakeException(
                "WebSocket handshake timed out after " + options.handshakeTimeout().toMillis() + " ms")),
                options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        ctx.writeAndFlush(request).addListener(f -> {
            if (!f.isSuccess()) {
                fail(ctx, new HandshakeException("could not send the WebSocket upgrade request", -1, f.cause()));
            }
        });
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (!done) {
            done = true;
            ReferenceCountUtil.safeRelease(rest);
            rest = null;
            promise.tryFailure(new HandshakeException("WebSocket handshake handler removed before the 101"));
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (done) {
                return;
            }
            if (msg instanceof HttpResponse res) {
                if (res.decoderResult().isFailure()) {
                    fail(ctx, new HandshakeException("malformed WebSocket handshake response", -1,
                            res.decoderResult().cause()));
                    return;
                }
                String problem = check(res);
                if (problem != null) {
                    int status = res.status().code();
                    fail(ctx, new HandshakeException(problem, status));
                    return;
                }
                response = res;
            }
            if (msg instanceof LastHttpContent && response != null) {
                upgrade(ctx, response.headers());
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** What is wrong with the response, or {@code null}. */
    String check(HttpResponse res) {
        if (!HttpResponseStatus.SWITCHING_PROTOCOLS.equals(res.status())) {
            return "WebSocket upgrade refused: HTTP " + res.status();
        }
        HttpHeaders h = res.headers();
        if (!WsProtocol.hasToken(h.get(HttpHeaderNames.UPGRADE), "websocket")) {
            return "bad Upgrade header in the 101: " + h.get(HttpHeaderNames.UPGRADE);
        }
        if (!WsProtocol.hasToken(h.get(HttpHeaderNames.CONNECTION), "upgrade")) {
            return "bad Connection header in the 101: " + h.get(HttpHeaderNames.CONNECTION);
        }
        String accept = h.get(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT);
        if (!expectedAccept.equals(accept == null ? null : accept.trim())) {
            return "wrong Sec-WebSocket-Accept: expected " + expectedAccept + ", got " + accept;
        }
        String protocol = h.get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        if (protocol != null && !protocol.trim().equals(sentProtocol)) {
            return "the 101 selected Sec-WebSocket-Protocol '" + protocol + "', which was not requested";
        }
        if (h.contains(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS)) {
            return "the 101 selected an extension that was not offered: "
                    + h.get(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS);
        }
        return null;
    }

    private void upgrade(ChannelHandlerContext ctx, HttpHeaders responseHeaders) {
        done = true;
        Channel ch = ctx.channel();
        ChannelPipeline p = ctx.pipeline();
        // The encoder goes in front of the decoder: the decoder writes its own close frames on protocol violations.
        p.addAfter(WsProtocol.HTTP_DECODER, WsProtocol.FRAME_ENCODER, new WsFrameEncoder());
        p.addAfter(WsProtocol.FRAME_ENCODER, WsProtocol.FRAME_DECODER,
                new WsFrameDecoder(WsProtocol.decoderConfig(options, false)));
        p.replace(this, WsProtocol.ADAPTER, new WsStreamAdapter(options));
        p.remove(WsProtocol.HTTP_ENCODER);
        ByteBuf first = rest;
        rest = null;
        TunnelInfo info = new TunnelInfo(WsOptions.SCHEME, ch.remoteAddress(), ch.localAddress(),
                request.headers().get(HttpHeaderNames.HOST), request.uri(), responseHeaders);
        if (!Establish.tunnel(ch, info, initializer, first, promise)) {
            return;
        }
        // Hands the bytes that followed the 101 to the frame decoder.
        if (p.get(WsProtocol.HTTP_DECODER) != null) {
            p.remove(WsProtocol.HTTP_DECODER);
        }
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        if (done) {
            return;
        }
        done = true;
        ReferenceCountUtil.safeRelease(rest);
        rest = null;
        promise.tryFailure(cause);
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, new HandshakeException("connection closed during the WebSocket handshake"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause instanceof HandshakeException ? cause
                : new HandshakeException("WebSocket handshake failed: " + cause, -1, cause));
    }
}
