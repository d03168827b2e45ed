package dev.tunnelwire.transport.ws;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ClientStack;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The {@code ws} client: connects (TLS with ALPN {@code http/1.1} unless configured otherwise, as sing-box and Xray
 * do), sends the upgrade request with the head of the first payload as early data per {@link WsOptions#earlyData()},
 * and hands the upgraded connection to the initializer (see {@link WsClientHandshakeHandler}).
 */
final class WsDialer implements TunnelDialer {

    /** What a first payload contributes to the request, and what is left to send as frames. */
    record EarlyDataSplit(String encoded, ByteBuf rest) {
    }

    private final ClientStack stack;
    private final WsOptions options;

    WsDialer(TunnelRuntime runtime, DialerConfig config, WsOptions options) {
        this.stack = new ClientStack(runtime, config, List.of("http/1.1"), false);
        this.options = options;
    }

    @Override
    public Future<Channel> open(ByteBuf firstPayload, TunnelInitializer initializer) {
        return establish(stack.connect(), firstPayload, initializer);
    }

    @Override
    public Future<Channel> openOver(Channel carrier, ByteBuf firstPayload, TunnelInitializer initializer) {
        return establish(stack.over(carrier), firstPayload, initializer);
    }

    private Future<Channel> establish(Future<Channel> connected, ByteBuf firstPayload, TunnelInitializer init) {
        return stack.handOver(connected, firstPayload, (ch, promise) -> install(ch, firstPayload, init, promise));
    }

    /** Adds the HTTP codec and the handshake handler, which sends the request. Takes ownership of {@code first}. */
    void install(Channel ch, ByteBuf first, TunnelInitializer init, Promise<Channel> promise) {
        EarlyDataSplit split;
        FullHttpRequest request;
        try {
            split = split(options, first);
        } catch (Throwable t) {
            ReferenceCountUtil.safeRelease(first);
            throw t;
        }
        try {
            request = newRequest(options, stack.config().authority(), split.encoded());
        } catch (Throwable t) {
            ReferenceCountUtil.safeRelease(split.rest());
            throw t;
        }
        ChannelPipeline p = ch.pipeline();
        p.addLast(WsProtocol.HTTP_DECODER, new HttpResponseDecoder());
        p.addLast(WsProtocol.HTTP_ENCODER, new HttpRequestEncoder());
        p.addLast(WsProtocol.HANDSHAKE, new WsClientHandshakeHandler(options, request,
                request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL), split.rest(), init, promise));
    }

    /**
     * Splits the first payload by the early-data mode: the base64url of the head (or {@code null}) and the rest (or
     * {@code null}). Takes ownership of {@code first}.
     */
    static EarlyDataSplit split(WsOptions o, ByteBuf first) {
        if (first == null) {
            return new EarlyDataSplit(null, null);
        }
        int len = first.readableBytes();
        if (len == 0) {
            first.release();
            return new EarlyDataSplit(null, null);
        }
        switch (o.earlyData()) {
            case PATH, HEADER -> {
                int n = Math.min(len, o.maxEarlyData());
                String enc = WsProtocol.encodeEarlyData(first, n);
                if (n == len) {
                    first.release();
                    return new EarlyDataSplit(enc, null);
                }
                first.skipBytes(n);
                return new EarlyDataSplit(enc, first);
            }
            case XRAY -> {
                if (len > o.maxEarlyData()) {
                    return new EarlyDataSplit(null, first);
                }
                String enc = WsProtocol.encodeEarlyData(first, len);
                first.release();
                return new EarlyDataSplit(enc, null);
            }
            default -> {
                return new EarlyDataSplit(null, first);
            }
        }
    }

    /**
     * The upgrade request: request line, {@code Host}, {@code Upgrade}, {@code Connection}, {@code Sec-WebSocket-Key},
     * {@code Sec-WebSocket-Version}, the early-data header (if any), {@code User-Agent}, then the configured headers in
     * order ({@code Host} excluded; a configured {@code Sec-WebSocket-Protocol} is sent as given unless it carries the
     * early data).
     */
    static FullHttpRequest newRequest(WsOptions o, String authority, String earlyData) {
        String uri = o.path();
        String edHeader = null;
        if (earlyData != null) {
            switch (o.earlyData()) {
                case PATH -> uri = uri + earlyData;
                case HEADER -> edHeader = o.earlyDataHeader();
                case XRAY -> edHeader = WsProtocol.H_PROTOCOL;
                default -> throw new IllegalStateException("early data without a mode");
            }
        }
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri,
                Unpooled.EMPTY_BUFFER);
        HttpHeaders h = req.headers();
        byte[] key = new byte[16];
        ThreadLocalRandom.current().nextBytes(key);
        h.add(WsProtocol.H_HOST, o.requestHost(authority))
                .add(WsProtocol.H_UPGRADE, "websocket")
                .add(WsProtocol.H_CONNECTION, "Upgrade")
                .add(WsProtocol.H_KEY, Base64.getEncoder().encodeToString(key))
                .add(WsProtocol.H_VERSION, WsProtocol.VERSION);
        if (edHeader != null) {
            h.add(edHeader, earlyData);
        }
        if (!o.userAgent().isEmpty() && !hasHeader(o.headers(), "user-agent")) {
            h.add(WsProtocol.H_USER_AGENT, o.userAgent());
        }
        for (Map.Entry<String, String> e : o.headers().entrySet()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (name.equals("host") || edHeader != null && name.equals(edHeader.toLowerCase(Locale.ROOT))) {
                continue;
            }
            h.add(e.getKey(), e.getValue());
        }
        return req;
    }

    private static boolean hasHeader(Map<String, String> headers, String lowerName) {
        return headers.keySet().stream().anyMatch(k -> k.toLowerCase(Locale.ROOT).equals(lowerName));
    }

    @Override
    public String transport() {
        return WsOptions.SCHEME;
    }

    @Override
    public void close() {
        // no pooled connections
    }
}
