package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.Connections;
import dev.tunnelwire.internal.Establish;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Date;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The server half of the handshake, one-shot. Sits behind the {@link io.netty.handler.codec.http.HttpServerCodec}
 * named {@link HttpUpgradeProtocol#CODEC} and reads exactly one request head.
 *
 * <p>The request is validated on its head ({@link #validate}); it is accepted at its end (the
 * {@link LastHttpContent} the decoder emits right behind a bodiless request, in the same decode pass, before it
 * parses anything else). Accepting writes the 101 through the codec, removes the codec, which hands over every byte
 * the client pipelined behind the head as it is (no copy), runs the initializer through {@link Establish#tunnel},
 * fires v2fly header early data (if any) and the pipelined bytes, and removes this handler; from the 101 on it only
 * passes messages through.
 *
 * <p>A rejected request is answered per {@link HttpUpgradeOptions#rejectMode()}, or, with a
 * {@link HttpUpgradeOptions#fallback()}, handed to the {@link HttpUpgradeFallback} with everything read so far. A
 * head not complete within the handshake timeout (counted from connection setup, so it includes the PROXY header and
 * the TLS handshake) closes the connection.
 *
 * <p>Reference counting: releases every decoded message; keeps the codec's leftover bytes only until it fires them.
 */
final class HttpUpgradeServerHandshakeHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(HttpUpgradeServerHandshakeHandler.class);
    private static final byte[] NO_BYTES = new byte[0];

    private enum State { READING, ACCEPTED, OPEN, REJECTED, FALLBACK }

    /**
     * The outcome of {@link #validate}: {@code status} 0 means accepted. {@code malformed} marks requests that Go's
     * HTTP server itself refuses (unparseable, head too large), which it answers differently from the checks of
     * sing-box's handler.
     */
    record Verdict(int status, String reason, byte[] earlyData, boolean malformed) {
        static final Verdict OK = new Verdict(0, null, NO_BYTES, false);

        static Verdict reject(int status, String reason) {
            return new Verdict(status, reason, null, false);
        }

        static Verdict malformed(int status, String reason) {
            return new Verdict(status, reason, null, true);
        }

        boolean accepted() {
            return status == 0;
        }
    }

    private final HttpUpgradeOptions options;
    private final TunnelInitializer initializer;
    private final HttpUpgradeFallback fallback;
    private State state = State.READING;
    private HttpRequest request;
    private byte[] earlyData;
    private ByteBuf leftover;
    private ScheduledFuture<?> timeout;

    /** @param fallback the fallback, or {@code null} when none is configured */
    HttpUpgradeServerHandshakeHandler(HttpUpgradeOptions options, TunnelInitializer initializer,
                                      HttpUpgradeFallback fallback) {
        this.options = options;
        this.initializer = initializer;
        this.fallback = fallback;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> {
            if (state == State.READING) {
                state = State.REJECTED;
                ctx.close();
            }
        }, options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimeout();
        if (leftover != null) {
            leftover.release();
            leftover = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.OPEN) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (state != State.READING) {
            if (state == State.ACCEPTED && msg instanceof ByteBuf b && leftover == null) {
                leftover = b; // the codec's remaining bytes, handed over while it is being removed
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        try {
            if (msg instanceof HttpRequest req) {
                Verdict v = validate(req, options);
                if (!v.accepted()) {
                    reject(ctx, v);
                    return;
                }
                request = req;
                earlyData = v.earlyData();
                if (options.trustXForwardedFor()) {
                    applyForwardedFor(ctx.channel(), req.headers());
                }
            }
            if (msg instanceof LastHttpContent && request != null) {
                accept(ctx);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** Checks a request head in sing-box's order; see {@link HttpUpgradeOptions} for the rules. */
    static Verdict validate(HttpRequest req, HttpUpgradeOptions o) {
        if (!req.decoderResult().isSuccess()) {
            Throwable cause = req.decoderResult().cause();
            return cause instanceof TooLongFrameException
                    ? Verdict.malformed(431, "request head too large")
                    : Verdict.malformed(400, "malformed request: " + cause);
        }
        if (headSize(req) > o.maxRequestHeadBytes()) {
            return Verdict.malformed(431, "request head larger than " + o.maxRequestHeadBytes() + " bytes");
        }
        HttpHeaders h = req.headers();
        if (HttpUtil.isTransferEncodingChunked(req) || HttpUtil.getContentLength(req, 0L) != 0) {
            return Verdict.reject(400, "request has a body");
        }
        if (o.host() != null && !hostMatches(h.get(HttpHeaderNames.HOST), o.host())) {
            return Verdict.reject(400, "bad host: " + h.get(HttpHeaderNames.HOST));
        }
        String path;
        try {
            path = decodedPath(req.uri());
        } catch (IllegalArgumentException e) {
            return Verdict.malformed(400, "malformed request target: " + req.uri());
        }
        if (!path.equals(configuredPath(o.path()))) {
            return Verdict.reject(404, "bad path: " + path);
        }
        if (!HttpMethod.GET.equals(req.method())) {
            return Verdict.reject(404, "bad method: " + req.method());
        }
        if (!HttpUpgradeProtocol.CONNECTION_UPGRADE.equalsIgnoreCase(h.get(HttpHeaderNames.CONNECTION))) {
            return Verdict.reject(404, "bad Connection: " + h.get(HttpHeaderNames.CONNECTION));
        }
        if (!HttpUpgradeProtocol.UPGRADE_WEBSOCKET.equalsIgnoreCase(h.get(HttpHeaderNames.UPGRADE))) {
            return Verdict.reject(404, "bad Upgrade: " + h.get(HttpHeaderNames.UPGRADE));
        }
        if (h.contains(HttpHeaderNames.SEC_WEBSOCKET_KEY)) {
            return Verdict.reject(404, "real WebSocket request");
        }
        if (o.earlyData() == HttpUpgradeOptions.EarlyData.V2FLY_HEADER) {
            String ed = h.get(o.earlyDataHeader());
            if (ed != null && !ed.isEmpty()) {
                try {
                    return new Verdict(0, null, Base64.getUrlDecoder().decode(ed), false);
                } catch (IllegalArgumentException e) {
                    return Verdict.reject(400, "bad early data in " + o.earlyDataHeader());
                }
            }
        }
        return Verdict.OK;
    }

    /** Request line plus header lines with their CRLFs, plus the blank line, as they were (nearly) on the wire. */
    private static int headSize(HttpRequest req) {
        int n = req.method().name().length() + 1 + req.uri().length() + 1 + req.protocolVersion().text().length()
                + 2;
        for (Map.Entry<String, String> e : req.headers()) {
            n += e.getKey().length() + 2 + e.getValue().length() + 2;
        }
        return n + 2;
    }

    /** Like Xray's {@code IsValidHTTPHost}: lower case, a {@code :port} ignored. */
    static boolean hostMatches(String requestHost, String configured) {
        if (requestHost == null) {
            return false;
        }
        return stripPort(requestHost.strip().toLowerCase(Locale.ROOT))
                .equals(stripPort(configured.toLowerCase(Locale.ROOT)));
    }

    private static String stripPort(String h) {
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end > 0 ? h.substring(1, end) : h;
        }
        int colon = h.indexOf(':');
        return colon >= 0 && colon == h.lastIndexOf(':') ? h.substring(0, colon) : h;
    }

    /** The percent-decoded path of a request target (origin or absolute form); the query is dropped. */
    static String decodedPath(String uri) {
        String target = uri;
        int scheme = target.indexOf("://");
        if (!target.startsWith("/") && scheme > 0) {
            int slash = target.indexOf('/', scheme + 3);
            target = slash < 0 ? "/" : target.substring(slash);
        }
        return new QueryStringDecoder(target).path();
    }

    /** The configured path, decoded the same way, without a query. */
    private static String configuredPath(String configured) {
        try {
            return new QueryStringDecoder(configured).path();
        } catch (IllegalArgumentException e) {
            return configured;
        }
    }

    private static void applyForwardedFor(Channel ch, HttpHeaders h) {
        String xff = h.get("X-Forwarded-For");
        if (xff == null) {
            return;
        }
        int comma = xff.indexOf(',');
        String first = (comma < 0 ? xff : xff.substring(0, comma)).strip();
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(first);
        if (ip != null) {
            try {
                ch.attr(Connections.CLIENT_ADDRESS).set(new InetSocketAddress(InetAddress.getByAddress(ip), 0));
            } catch (UnknownHostException impossible) {
                // a 4- or 16-byte array is always accepted
            }
        }
    }

    private void accept(ChannelHandlerContext ctx) {
        state = State.ACCEPTED;
        cancelTimeout();
        Channel ch = ctx.channel();
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.SWITCHING_PROTOCOLS, Unpooled.EMPTY_BUFFER);
        res.headers().add("Connection", HttpUpgradeProtocol.CONNECTION_UPGRADE);
        res.headers().add("Upgrade", HttpUpgradeProtocol.UPGRADE_WEBSOCKET);
        ctx.writeAndFlush(res);
        if (ctx.pipeline().get(HttpUpgradeProtocol.RECORDER) != null) {
            ctx.pipeline().remove(HttpUpgradeProtocol.RECORDER);
        }
        // Removing the codec fires the bytes pipelined behind the request head into channelRead (kept in leftover).
        ctx.pipeline().remove(HttpUpgradeProtocol.CODEC);
        ByteBuf pipelined = leftover;
        leftover = null;
        state = State.OPEN;
        HttpRequest req = request;
        TunnelInfo info = new TunnelInfo(HttpUpgradeOptions.SCHEME, Connections.clientAddress(ch), ch.localAddress(),
                req.headers().get(HttpHeaderNames.HOST), req.uri(), req.headers());
        // This handler stays (passing everything through) until the early bytes are fired: a removed context would
        // fire them past the handlers the initializer adds.
        if (!Establish.tunnel(ch, info, initializer, null, null)) {
            ReferenceCountUtil.safeRelease(pipelined);
        } else {
            boolean fired = false;
            if (earlyData != null && earlyData.length > 0) {
                ctx.fireChannelRead(Unpooled.wrappedBuffer(earlyData));
                fired = true;
            }
            if (pipelined != null) {
                ctx.fireChannelRead(pipelined);
                fired = true;
            }
            if (fired) {
                ctx.fireChannelReadComplete();
            }
        }
        if (!ctx.isRemoved()) {
            ctx.pipeline().remove(this);
        }
    }

    private void reject(ChannelHandlerContext ctx, Verdict v) {
        cancelTimeout();
        if (log.isDebugEnabled()) {
            log.debug("httpupgrade request from {} rejected ({}): {}", Connections.clientAddress(ctx.channel()),
                    fallback != null ? "to fallback" : options.rejectMode() == HttpUpgradeOptions.RejectMode.CLOSE
                            ? "close" : v.status(), v.reason());
        }
        if (fallback != null) {
            state = State.FALLBACK;
            fallback.divert(ctx.channel());
            return;
        }
        state = State.REJECTED;
        if (options.rejectMode() == HttpUpgradeOptions.RejectMode.CLOSE) {
            ctx.close();
            return;
        }
        ctx.writeAndFlush(rejection(v)).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * The answer to a rejected request, shaped like the peers': a check of sing-box's handler gives
     * {@code Date} and {@code Content-Length: 0}; a request Go's HTTP server refuses itself gives a short text
     * body and {@code Connection: close}. The connection is closed after either.
     */
    static FullHttpResponse rejection(Verdict v) {
        HttpResponseStatus status = HttpResponseStatus.valueOf(v.status());
        FullHttpResponse res;
        if (v.malformed()) {
            byte[] body = (status.code() + " " + status.reasonPhrase()).getBytes(StandardCharsets.US_ASCII);
            res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
            res.headers().add("Content-Type", "text/plain; charset=utf-8");
            res.headers().add("Connection", "close");
        } else {
            res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
            res.headers().add("Date", DateFormatter.format(new Date()));
            res.headers().add("Content-Length", "0");
        }
        return res;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            if (state == State.READING) {
                state = State.REJECTED;
                ctx.close(); // the client stopped sending before its request head was complete
                return;
            }
            if (state == State.FALLBACK) {
                fallback.inputShutdown(ctx.channel());
                return;
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (state == State.READING || state == State.REJECTED) {
            state = State.REJECTED;
            ctx.close();
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
        }
    }
}
