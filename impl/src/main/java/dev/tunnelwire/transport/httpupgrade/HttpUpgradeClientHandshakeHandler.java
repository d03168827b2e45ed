package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.Establish;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The client half of the handshake, one-shot. Sits behind the {@link io.netty.handler.codec.http.HttpClientCodec}
 * named {@link HttpUpgradeProtocol#CODEC}. When added it writes the request head (and, with
 * {@link HttpUpgradeOptions.EarlyData#XRAY_ED}, the first payload right after it in a write of its own, below the
 * codec); it then waits for the response head.
 *
 * <p>A {@code 101} with {@code Connection: upgrade} and {@code Upgrade: websocket} (whole values, any case) makes it
 * remove the codec, which hands over the bytes that followed the response head as they are (no copy), run the
 * initializer through {@link Establish#tunnel} (which sends what is left of the first payload), fire those leftover
 * bytes and remove itself; from the 101 on it only passes messages through. Any other answer, a close, or no answer within the handshake timeout fails the promise
 * with a {@link HandshakeException} and closes the connection.
 *
 * <p>Reference counting: owns {@code firstPayload} until it is written or handed to {@link Establish}; releases the
 * decoded response.
 */
final class HttpUpgradeClientHandshakeHandler extends ChannelInboundHandlerAdapter {

    private final HttpUpgradeOptions options;
    private final String host;
    private final TunnelInitializer initializer;
    private final Promise<Channel> promise;
    private ByteBuf firstPayload;
    private ByteBuf leftover;
    private HttpResponse response;
    private ScheduledFuture<?> timeout;
    private boolean done;
    private boolean open;

    HttpUpgradeClientHandshakeHandler(HttpUpgradeOptions options, String host, ByteBuf firstPayload,
                                      TunnelInitializer initializer, Promise<Channel> promise) {
        this.options = options;
        this.host = host;
        this.firstPayload = firstPayload;
        this.initializer = initializer;
        this.promise = promise;
    }

    /**
     * The request head, headers in Go's order: {@code Host}, {@code User-Agent}, then the others sorted by the bytes
     * of their names. {@code earlyData} (base64 of the header-borne first payload) may be {@code null}.
     */
    static FullHttpRequest request(HttpUpgradeOptions options, String host, String earlyData) {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, options.path(),
                Unpooled.EMPTY_BUFFER);
        HttpHeaders h = req.headers();
        h.add("Host", host);
        List<Map.Entry<String, String>> rest = new ArrayList<>();
        String ua = options.effectiveUserAgent();
        if (ua != null) {
            h.add("User-Agent", ua);
        }
        for (Map.Entry<String, String> e : options.headers().entrySet()) {
            if (e.getKey().equalsIgnoreCase("User-Agent")) {
                h.add(e.getKey(), e.getValue());
            } else {
                rest.add(e);
            }
        }
        rest.add(Map.entry("Connection", HttpUpgradeProtocol.CONNECTION_UPGRADE));
        rest.add(Map.entry("Upgrade", HttpUpgradeProtocol.UPGRADE_WEBSOCKET));
        if (earlyData != null) {
            rest.add(Map.entry(options.earlyDataHeader(), earlyData));
        }
        rest.sort(Map.Entry.comparingByKey());
        for (Map.Entry<String, String> e : rest) {
            h.add(e.getKey(), e.getValue());
        }
        return req;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        String earlyHeader = null;
        if (options.earlyData() == HttpUpgradeOptions.EarlyData.V2FLY_HEADER && firstPayload != null
                && firstPayload.isReadable()) {
            int n = Math.min(firstPayload.readableBytes(), options.maxEarlyData());
            byte[] head = ByteBufUtil.getBytes(firstPayload, firstPayload.readerIndex(), n, false);
            firstPayload.skipBytes(n);
            earlyHeader = Base64.getUrlEncoder().encodeToString(head);
        }
        ctx.writeAndFlush(request(options, host, earlyHeader)).addListener(f -> {
            if (!f.isSuccess()) {
                fail(ctx, new HandshakeException("writing the upgrade request failed", -1, f.cause()));
            }
        });
        if (options.earlyData() == HttpUpgradeOptions.EarlyData.XRAY_ED && firstPayload != null) {
            ByteBuf ed = firstPayload;
            firstPayload = null;
            if (ed.isReadable()) {
                // Below the codec, in a flush of its own: a separate write, and a separate TLS record.
                ctx.pipeline().context(HttpUpgradeProtocol.CODEC).writeAndFlush(ed);
            } else {
                ed.release();
            }
        }
        timeout = ctx.executor().schedule(() -> fail(ctx, new HandshakeException(
                        "no upgrade response within " + options.handshakeTimeout().toMillis() + " ms")),
                options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (open) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (done) {
            if (msg instanceof ByteBuf b && response != null && leftover == null) {
                leftover = b; // the codec's remaining bytes, handed over while it is being removed
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        try {
            if (!(msg instanceof HttpResponse res)) {
                fail(ctx, new HandshakeException("unexpected " + msg.getClass().getSimpleName()
                        + " before the upgrade response"));
                return;
            }
            if (!res.decoderResult().isSuccess()) {
                fail(ctx, new HandshakeException("malformed upgrade response", -1, res.decoderResult().cause()));
                return;
            }
            int status = res.status().code();
            String connection = res.headers().get(HttpHeaderNames.CONNECTION);
            String upgrade = res.headers().get(HttpHeaderNames.UPGRADE);
            if (status != 101 || !HttpUpgradeProtocol.CONNECTION_UPGRADE.equalsIgnoreCase(connection)
                    || !HttpUpgradeProtocol.UPGRADE_WEBSOCKET.equalsIgnoreCase(upgrade)) {
                fail(ctx, new HandshakeException("unexpected upgrade response: " + res.status()
                        + ", Connection: " + connection + ", Upgrade: " + upgrade, status));
                return;
            }
            establish(ctx, res);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void establish(ChannelHandlerContext ctx, HttpResponse res) {
        done = true;
        response = res;
        timeout.cancel(false);
        Channel ch = ctx.channel();
        // Removing the codec fires the bytes behind the response head into channelRead (kept in leftover).
        ctx.pipeline().remove(HttpUpgradeProtocol.CODEC);
        ByteBuf first = firstPayload;
        firstPayload = null;
        TunnelInfo info = new TunnelInfo(HttpUpgradeOptions.SCHEME, ch.remoteAddress(), ch.localAddress(), host,
                options.path(), res.headers());
        ByteBuf early = leftover;
        leftover = null;
        open = true;
        // This handler stays (passing everything through) until the early bytes are fired: a removed context would
        // fire them past the handlers the initializer adds.
        if (Establish.tunnel(ch, info, initializer, first, promise) && early != null) {
            ctx.fireChannelRead(early);
            ctx.fireChannelReadComplete();
        } else if (early != null) {
            early.release();
        }
        if (!ctx.isRemoved()) {
            ctx.pipeline().remove(this);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!open) {
            fail(ctx, new HandshakeException("connection closed before the upgrade response"));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (open) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        fail(ctx, new HandshakeException("upgrade handshake failed: " + cause, -1, cause));
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (!done) {
            releasePayload();
        }
        if (leftover != null) {
            leftover.release();
            leftover = null;
        }
    }

    private void fail(ChannelHandlerContext ctx, HandshakeException e) {
        if (done) {
            return;
        }
        done = true;
        if (timeout != null) {
            timeout.cancel(false);
        }
        releasePayload();
        promise.tryFailure(e);
        ctx.close();
    }

    private void releasePayload() {
        if (firstPayload != null) {
            firstPayload.release();
            firstPayload = null;
        }
    }
}
