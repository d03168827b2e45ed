package dev.tunnelwire.proxy.http;

import dev.tunnelwire.internal.ServerSession;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.HandlerContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Objects;

/**
 * The HTTP proxy server on Netty's codec-http.
 *
 * <p><b>CONNECT</b> {@code host:port} (port 80 when missing, as gost): on success the literal
 * {@code HTTP/1.1 200 Connection established\r\nProxy-Agent: <agent>\r\n\r\n}, flushed on its own, then raw bytes;
 * bytes the client pipelined after the request are kept. <b>Absolute-URI requests</b> ({@code GET http://host/p})
 * are forwarded in origin form with {@code Proxy-*} headers removed, one upstream connection per request, the client
 * connection kept alive between requests (see {@link PlainForwarder}); the handshake timeout covers the first request
 * only.
 *
 * <p>Errors (all followed by a close), byte-compatible with gost 3.2.6:
 * <pre>
 * 400 Bad Request                  malformed request, non-http absolute URI, origin-form request
 * 407 Proxy Authentication Required  with Proxy-Authenticate: Basic realm="..." (+ Proxy-Connection: close when
 *                                  the request had Proxy-Connection: keep-alive)
 * 503 Service Unavailable          the destination cannot be reached (with Proxy-Agent)
 * </pre>
 */
public final class HttpHandler implements Handler {

    public static final String PROTOCOL = "http";

    private final HttpHandlerOptions options;

    public HttpHandler(HttpHandlerOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public String protocol() {
        return PROTOCOL;
    }

    @Override
    public void init(Channel tunnel, HandlerContext context) {
        tunnel.pipeline().addLast("tw-http-decoder", new HttpRequestDecoder());
        tunnel.pipeline().addLast("tw-http-server",
                new ServerHandler(options, context, ServerSession.startTimeout(tunnel, context, PROTOCOL)));
    }

    static ByteBuf ascii(String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    static String established(HttpHandlerOptions o) {
        return "HTTP/1.1 200 Connection established\r\nProxy-Agent: " + o.proxyAgent() + "\r\n\r\n";
    }

    static String badRequest() {
        return "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
    }

    static String proxyAuthRequired(HttpHandlerOptions o, boolean proxyConnectionKeepAlive) {
        return "HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\nProxy-Authenticate: Basic realm=\""
                + o.realm() + "\"\r\n" + (proxyConnectionKeepAlive ? "Proxy-Connection: close\r\n" : "") + "\r\n";
    }

    static String serviceUnavailable(HttpHandlerOptions o) {
        return "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nProxy-Agent: " + o.proxyAgent()
                + "\r\n\r\n";
    }

    /** Checks {@code Proxy-Authorization: Basic}; no authenticator accepts everything. */
    static boolean authorized(HttpHandlerOptions o, HttpRequest req) {
        if (o.authenticator() == null) {
            return true;
        }
        String h = req.headers().get(HttpHeaderNames.PROXY_AUTHORIZATION);
        if (h == null || !h.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(h.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return false;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return false;
        }
        return o.authenticator().authenticate(decoded.substring(0, colon), decoded.substring(colon + 1));
    }

    static final class ServerHandler extends ChannelInboundHandlerAdapter {
        private final HttpHandlerOptions options;
        private final HandlerContext hc;
        private final ScheduledFuture<?> timeout;
        private PlainForwarder plain;
        private boolean done;

        ServerHandler(HttpHandlerOptions options, HandlerContext hc, ScheduledFuture<?> timeout) {
            this.options = options;
            this.hc = hc;
            this.timeout = timeout;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (plain != null && !(msg instanceof HttpRequest)) {
                plain.read(msg, null);
                return;
            }
            if (done || !(msg instanceof HttpRequest req)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            timeout.cancel(false);
            try {
                if (plain != null && HttpMethod.CONNECT.equals(req.method())) {
                    reject(ctx, badRequest(), "CONNECT after proxied requests on the same connection");
                    return;
                }
                if (!req.decoderResult().isSuccess()) {
                    reject(ctx, badRequest(), "malformed request: " + req.decoderResult().cause());
                    return;
                }
                if (!authorized(options, req)) {
                    boolean keepAlive = "keep-alive".equalsIgnoreCase(
                            req.headers().get(HttpHeaderNames.PROXY_CONNECTION));
                    reject(ctx, proxyAuthRequired(options, keepAlive), "authentication failed for "
                            + req.method() + " " + req.uri());
                    return;
                }
                if (HttpMethod.CONNECT.equals(req.method())) {
                    connect(ctx, req);
                } else {
                    plain(ctx, req);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void connect(ChannelHandlerContext ctx, HttpRequest req) {
            Destination dst;
            try {
                String target = req.uri();
                dst = Destination.parse(target.lastIndexOf(':') > target.lastIndexOf(']') ? target : target + ":80");
            } catch (IllegalArgumentException e) {
                reject(ctx, badRequest(), "bad CONNECT target " + req.uri());
                return;
            }
            done = true;
            ServerSession.Replies replies = new ServerSession.Replies() {
                @Override
                public void connected(Channel inbound) {
                    inbound.writeAndFlush(ascii(established(options)));
                }

                @Override
                public void failed(Channel inbound, Throwable cause) {
                    inbound.writeAndFlush(ascii(serviceUnavailable(options))).addListener(ChannelFutureListener.CLOSE);
                }
            };
            if (options.earlyReply()) {
                ServerSession.connectAfterReply(ctx, hc, PROTOCOL, dst, replies);
            } else {
                ServerSession.connect(ctx, hc, PROTOCOL, dst, false, replies);
            }
            ctx.pipeline().remove(this);
            ctx.pipeline().remove("tw-http-decoder");
        }

        private void plain(ChannelHandlerContext ctx, HttpRequest req) {
            URI uri;
            try {
                uri = new URI(req.uri());
            } catch (URISyntaxException e) {
                reject(ctx, badRequest(), "bad request URI " + req.uri());
                return;
            }
            if (uri.getScheme() == null || !"http".equals(uri.getScheme().toLowerCase(Locale.ROOT))
                    || uri.getHost() == null) {
                reject(ctx, badRequest(), "not a proxy request: " + req.method() + " " + req.uri());
                return;
            }
            Destination dst;
            try {
                dst = new Destination(uri.getHost(), uri.getPort() < 0 ? 80 : uri.getPort());
            } catch (IllegalArgumentException e) {
                reject(ctx, badRequest(), "bad request URI " + req.uri());
                return;
            }
            String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            if (uri.getRawQuery() != null) {
                path += "?" + uri.getRawQuery();
            }
            req.setUri(path);
            req.headers().remove(HttpHeaderNames.PROXY_AUTHORIZATION);
            req.headers().remove(HttpHeaderNames.PROXY_CONNECTION);
            req.headers().remove("Gost-Target");
            req.headers().remove("X-Gost-Target");
            req.headers().remove(HttpHeaderNames.KEEP_ALIVE);
            if (!req.headers().contains(HttpHeaderNames.HOST)) {
                req.headers().set(HttpHeaderNames.HOST, uri.getRawAuthority());
            }
            if (plain == null) {
                plain = new PlainForwarder(hc, options, ctx);
            }
            plain.read(ReferenceCountUtil.retain(req), dst);
        }

        private void reject(ChannelHandlerContext ctx, String response, String why) {
            done = true;
            if (plain != null) {
                plain.inboundClosed();
                plain.removeEncoder();
            }
            ServerSession.warn(hc, ctx.channel(), PROTOCOL, why, null);
            ctx.channel().config().setAutoRead(false);
            ctx.writeAndFlush(ascii(response)).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (plain != null) {
                plain.readComplete();
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (plain != null) {
                plain.inboundWritable();
            }
            ctx.fireChannelWritabilityChanged();
        }

        /**
         * The client's end of input (on a half-closing tunnel its close, which otherwise leaves the socket open):
         * before any request the connection is closed, during plain proxying {@link PlainForwarder} decides.
         */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && !done) {
                if (plain != null) {
                    plain.inputShutdown();
                } else {
                    timeout.cancel(false);
                    ctx.close();
                }
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            timeout.cancel(false);
            if (plain != null) {
                plain.inboundClosed();
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ServerSession.warn(hc, ctx.channel(), PROTOCOL, "request failed", cause);
            ctx.close();
        }
    }
}
