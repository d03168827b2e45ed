package dev.tunnelwire.transport.ws;

import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.Connections;
import dev.tunnelwire.internal.Establish;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The listener's one-shot WebSocket upgrade: sits behind {@link io.netty.handler.codec.http.HttpRequestDecoder}
 * ({@value WsProtocol#HTTP_DECODER}) and {@link io.netty.handler.codec.http.HttpResponseEncoder}
 * ({@value WsProtocol#HTTP_ENCODER}), validates the request head by the rules and in the order documented on
 * {@link WsOptions}, and either answers with the status the peers use and closes, or accepts:
 * <ol>
 *   <li>writes the 101 (echoing {@code Sec-WebSocket-Protocol} when early data came in it);</li>
 *   <li>replaces the HTTP codec with the frame codec and itself with a {@link WsStreamAdapter};</li>
 *   <li>runs the tunnel initializer;</li>
 *   <li>delivers the decoded early data, then removes the HTTP decoder, which hands the bytes the client pipelined
 *       after its request (frames sent before it read the 101) to the frame decoder: nothing is lost, and early data
 *       comes before any frame payload.</li>
 * </ol>
 * A request not completed within {@link WsOptions#handshakeTimeout()} (counted from the moment the connection is
 * set up, so a stalled TLS handshake counts) closes the connection.
 *
 * <p>Buffers: the request and its (empty) contents are released here; the early data buffer is handed to the tunnel.
 */
final class WsServerHandshakeHandler extends ChannelInboundHandlerAdapter {

    private final WsOptions options;
    private final TunnelInitializer initializer;
    private ScheduledFuture<?> timeout;
    private HttpRequest request;
    private boolean done;

    WsServerHandshakeHandler(WsOptions options, TunnelInitializer initializer) {
        this.options = options;
        this.initializer = initializer;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> {
            if (!done) {
                done = true;
                ctx.close();
            }
        }, options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (done) {
                return; // after a rejection: ignore whatever else the decoder produces
            }
            if (msg instanceof HttpRequest req) {
                if (req.decoderResult().isFailure()) {
                    Throwable cause = req.decoderResult().cause();
                    reject(ctx, cause instanceof TooLongHttpHeaderException || cause instanceof TooLongHttpLineException
                            || cause instanceof TooLongFrameException
                            ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE : HttpResponseStatus.BAD_REQUEST);
                    return;
                }
                request = req;
            }
            if (msg instanceof HttpContent content) {
                if (content.content().isReadable() || content.decoderResult().isFailure()) {
                    reject(ctx, HttpResponseStatus.BAD_REQUEST); // an upgrade request has no body
                    return;
                }
                if (content instanceof LastHttpContent && request != null) {
                    handshake(ctx, request);
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void handshake(ChannelHandlerContext ctx, HttpRequest req) {
        Decision d = decide(req);
        if (d.status != null) {
            reject(ctx, d.status);
            return;
        }
        accept(ctx, req, d);
    }

    /** The outcome of validating a request head: a rejection status, or early data and the protocol to echo. */
    record Decision(HttpResponseStatus status, byte[] earlyData, String echoProtocol) {
        static Decision reject(HttpResponseStatus s) {
            return new Decision(s, null, null);
        }
    }

    /** Validates {@code req} by the rules documented on {@link WsOptions}, in the order documented there. */
    Decision decide(HttpRequest req) {
        HttpHeaders h = req.headers();
        String hostHeader = h.get(HttpHeaderNames.HOST);
        if (options.host() != null && !sameHost(options.host(), hostHeader)) {
            return Decision.reject(HttpResponseStatus.BAD_REQUEST);
        }
        // Path and early data location.
        String uri = originForm(req.uri());
        int q = uri.indexOf('?');
        String rawPath = q < 0 ? uri : uri.substring(0, q);
        String cfgRaw = options.path().indexOf('?') < 0 ? options.path()
                : options.path().substring(0, options.path().indexOf('?'));
        boolean exact = decodePath(rawPath).equals(decodePath(cfgRaw));
        String pathEarly = null;
        switch (options.earlyData()) {
            case PATH -> {
                if (!uri.startsWith(cfgRaw)) {
                    return Decision.reject(HttpResponseStatus.NOT_FOUND);
                }
                pathEarly = uri.substring(cfgRaw.length());
            }
            case NONE -> {
                if (!exact) {
                    String rest = rawPath.startsWith(cfgRaw) ? rawPath.substring(cfgRaw.length()) : "";
                    if (!WsProtocol.isBase64Url(rest)) {
                        return Decision.reject(HttpResponseStatus.NOT_FOUND);
                    }
                    byte[] b = WsProtocol.decodeEarlyData(rest);
                    if (b == null || b.length == 0) {
                        return Decision.reject(HttpResponseStatus.NOT_FOUND);
                    }
                    pathEarly = rest;
                }
            }
            default -> {
                if (!exact) {
                    return Decision.reject(HttpResponseStatus.NOT_FOUND);
                }
            }
        }
        // The WebSocket handshake itself (RFC 6455 §4.2.1).
        if (!HttpMethod.GET.equals(req.method())) {
            return Decision.reject(HttpResponseStatus.METHOD_NOT_ALLOWED);
        }
        if (req.protocolVersion().majorVersion() < 1
                || req.protocolVersion().majorVersion() == 1 && req.protocolVersion().minorVersion() < 1) {
            return Decision.reject(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED);
        }
        if (hostHeader == null || hostHeader.isEmpty()
                || !WsProtocol.hasToken(h.get(HttpHeaderNames.UPGRADE), "websocket")
                || !WsProtocol.hasToken(h.get(HttpHeaderNames.CONNECTION), "upgrade")
                || !WsProtocol.validKey(h.get(HttpHeaderNames.SEC_WEBSOCKET_KEY))) {
            return Decision.reject(HttpResponseStatus.BAD_REQUEST);
        }
        String version = h.get(HttpHeaderNames.SEC_WEBSOCKET_VERSION);
        if (version == null || version.isEmpty()) {
            return Decision.reject(HttpResponseStatus.BAD_REQUEST);
        }
        if (!version.trim().equals(WsProtocol.VERSION)) {
            return Decision.reject(HttpResponseStatus.UPGRADE_REQUIRED);
        }
        // Early data.
        if (pathEarly != null) {
            if (pathEarly.isEmpty()) {
                return new Decision(null, null, null);
            }
            byte[] b = WsProtocol.decodeEarlyData(pathEarly);
            return b == null ? Decision.reject(HttpResponseStatus.BAD_REQUEST) : new Decision(null, b, null);
        }
        String headerName = options.earlyData() == WsOptions.EarlyData.XRAY
                ? WsOptions.DEFAULT_EARLY_DATA_HEADER : options.earlyDataHeader();
        if (options.earlyData() == WsOptions.EarlyData.PATH) {
            return new Decision(null, null, null);
        }
        String value = h.get(headerName);
        if (value == null || value.isEmpty()) {
            return new Decision(null, null, null);
        }
        byte[] b = WsProtocol.decodeEarlyData(value);
        if (b == null || b.length == 0) {
            if (options.earlyData() == WsOptions.EarlyData.HEADER) {
                return Decision.reject(HttpResponseStatus.BAD_REQUEST);
            }
            return new Decision(null, null, null); // not early data (a real subprotocol): ignored
        }
        boolean echo = headerName.equalsIgnoreCase(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL.toString());
        return new Decision(null, b, echo ? value : null);
    }

    private void accept(ChannelHandlerContext ctx, HttpRequest req, Decision d) {
        done = true;
        Channel ch = ctx.channel();
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS,
                Unpooled.EMPTY_BUFFER);
        res.headers().add(WsProtocol.H_UPGRADE, "websocket")
                .add(WsProtocol.H_CONNECTION, "Upgrade")
                .add(WsProtocol.H_ACCEPT,
                        WsProtocol.acceptKey(req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY)));
        if (d.echoProtocol != null) {
            res.headers().add(WsProtocol.H_PROTOCOL, d.echoProtocol);
        }
        for (Map.Entry<String, String> e : options.headers().entrySet()) {
            res.headers().add(e.getKey(), e.getValue());
        }
        ctx.writeAndFlush(res);

        ChannelPipeline p = ctx.pipeline();
        // The encoder goes in front of the decoder: the decoder writes its own close frames on protocol violations.
        p.addAfter(WsProtocol.HTTP_DECODER, WsProtocol.FRAME_ENCODER, new WebSocket13FrameEncoder(false));
        p.addAfter(WsProtocol.FRAME_ENCODER, WsProtocol.FRAME_DECODER,
                new WsFrameDecoder(WsProtocol.decoderConfig(options, true)));
        p.replace(this, WsProtocol.ADAPTER, new WsStreamAdapter(options));
        p.remove(WsProtocol.HTTP_ENCODER);

        SocketAddress remote = Connections.clientAddress(ch);
        if (options.trustXForwardedFor()) {
            InetSocketAddress xff = forwardedFor(req.headers().get("X-Forwarded-For"));
            if (xff != null) {
                ch.attr(Connections.CLIENT_ADDRESS).set(xff);
                remote = xff;
            }
        }
        TunnelInfo info = new TunnelInfo(WsOptions.SCHEME, remote, ch.localAddress(),
                req.headers().get(HttpHeaderNames.HOST), req.uri(), req.headers());
        if (!Establish.tunnel(ch, info, initializer, null, null)) {
            return;
        }
        if (d.earlyData != null && d.earlyData.length > 0 && ch.isActive()) {
            ChannelHandlerContext adapter = p.context(WsProtocol.ADAPTER);
            if (adapter != null) {
                adapter.fireChannelRead(Unpooled.wrappedBuffer(d.earlyData));
                adapter.fireChannelReadComplete();
            }
        }
        // Hands the bytes pipelined after the request to the frame decoder.
        if (p.get(WsProtocol.HTTP_DECODER) != null) {
            p.remove(WsProtocol.HTTP_DECODER);
        }
    }

    private void reject(ChannelHandlerContext ctx, HttpResponseStatus status) {
        done = true;
        byte[] body = (status.reasonPhrase() + "\n").getBytes(StandardCharsets.US_ASCII);
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body));
        res.headers().set("Content-Type", "text/plain; charset=utf-8")
                .set("Content-Length", body.length)
                .set(WsProtocol.H_CONNECTION, "close");
        if (status.equals(HttpResponseStatus.UPGRADE_REQUIRED)) {
            res.headers().set(WsProtocol.H_VERSION, WsProtocol.VERSION);
        }
        if (status.equals(HttpResponseStatus.METHOD_NOT_ALLOWED)) {
            res.headers().set("Allow", "GET");
        }
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // TLS or decoder failure before the upgrade: nothing sensible can be answered.
        done = true;
        ctx.close();
    }

    /** An absolute-form request target ({@code http://host/p}) reduced to origin form ({@code /p}). */
    private static String originForm(String uri) {
        int scheme = uri.indexOf("://");
        if (scheme > 0 && !uri.startsWith("/")) {
            int slash = uri.indexOf('/', scheme + 3);
            return slash < 0 ? "/" : uri.substring(slash);
        }
        return uri;
    }

    private static String decodePath(String rawPath) {
        try {
            return QueryStringDecoder.decodeComponent(rawPath.replace("+", "%2B"));
        } catch (IllegalArgumentException e) {
            return rawPath;
        }
    }

    /** Host comparison as Xray's: case-insensitive, the request's port ignored. */
    static boolean sameHost(String expected, String hostHeader) {
        if (hostHeader == null) {
            return false;
        }
        return stripPort(expected).equalsIgnoreCase(stripPort(hostHeader.trim()));
    }

    private static String stripPort(String host) {
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end < 0 ? host : host.substring(1, end);
        }
        int colon = host.indexOf(':');
        if (colon >= 0 && host.indexOf(':', colon + 1) < 0) {
            return host.substring(0, colon);
        }
        return host;
    }

    /** The first element of {@code X-Forwarded-For} when it is an IP literal (never resolved), port 0. */
    static InetSocketAddress forwardedFor(String header) {
        if (header == null) {
            return null;
        }
        String first = header.split(",", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (first.startsWith("[") && first.endsWith("]")) {
            first = first.substring(1, first.length() - 1);
        }
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(first);
        if (ip == null) {
            return null;
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), 0);
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }
}
