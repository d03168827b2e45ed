package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.internal.Connections;
import dev.tunnelwire.internal.Establish;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;

import java.util.Map;

/**
 * One-shot handler on every server {@code Http2StreamChannel}: validates the request HEADERS of a gRPC call and, when
 * it is a gun call on a served path, answers the response HEADERS at once ({@code 200},
 * {@code content-type: application/grpc}; a client may wait for them), replaces itself with
 * {@link GunStreamAdapter}, {@link GunFrameDecoder} and {@link GunFrameEncoder}, and runs the tunnel initializer.
 *
 * <p>Checks, in grpc-go's order, each answered with a response that ends the stream:
 * <ol>
 *   <li>method not POST: {@code 405};</li>
 *   <li>{@code content-type} not {@code application/grpc[+...|;...]}: {@code 415} with {@code grpc-status 3};</li>
 *   <li>{@code :path} not served: a trailers-only response, {@code 200} with {@code grpc-status 12} (UNIMPLEMENTED)
 *       and grpc-go's {@code grpc-message} ("unknown service ..." or "unknown method ... for service ...").</li>
 * </ol>
 * {@code :scheme}, {@code :authority}, {@code te} and {@code user-agent} are not checked (Xray sends {@code :scheme
 * http} over TLS). The path matches exactly, or after percent-decoding (sing-box's full client sends the service name
 * unescaped, its lite client escaped).
 */
final class GunServerHandshakeHandler extends ChannelInboundHandlerAdapter {

    private final Map<String, GrpcProtocol.MessageKind> routes;
    private final GrpcOptions options;
    private final TunnelInitializer initializer;
    private boolean rejected;

    GunServerHandshakeHandler(Map<String, GrpcProtocol.MessageKind> routes, GrpcOptions options,
                              TunnelInitializer initializer) {
        this.routes = routes;
        this.options = options;
        this.initializer = initializer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (rejected || !(msg instanceof Http2HeadersFrame frame)) {
            // Body or trailers of a call being refused.
            ReferenceCountUtil.release(msg);
            return;
        }
        Http2Headers h = frame.headers();
        if (!GrpcProtocol.POST.contentEqualsIgnoreCase(h.method())) {
            reject(ctx, new DefaultHttp2Headers().status("405"));
            return;
        }
        CharSequence ct = h.get(GrpcProtocol.CONTENT_TYPE);
        if (!GrpcProtocol.isGrpcContentType(ct)) {
            reject(ctx, new DefaultHttp2Headers().status("415")
                    .set(GrpcProtocol.CONTENT_TYPE, GrpcProtocol.CONTENT_TYPE_GRPC)
                    .set(GrpcProtocol.GRPC_STATUS, Integer.toString(GrpcProtocol.STATUS_INVALID_ARGUMENT))
                    .set(GrpcProtocol.GRPC_MESSAGE, GrpcProtocol.encodeGrpcMessage(
                            "invalid gRPC request content-type \"" + (ct == null ? "" : ct) + "\"")));
            return;
        }
        String path = h.path() == null ? "" : h.path().toString();
        GrpcProtocol.MessageKind kind = route(path);
        if (kind == null) {
            reject(ctx, new DefaultHttp2Headers().status("200")
                    .set(GrpcProtocol.CONTENT_TYPE, GrpcProtocol.CONTENT_TYPE_GRPC)
                    .set(GrpcProtocol.GRPC_STATUS, Integer.toString(GrpcProtocol.STATUS_UNIMPLEMENTED))
                    .set(GrpcProtocol.GRPC_MESSAGE, GrpcProtocol.encodeGrpcMessage(unknownMessage(path))));
            return;
        }
        accept(ctx, frame, path, kind);
    }

    private GrpcProtocol.MessageKind route(String path) {
        GrpcProtocol.MessageKind kind = routes.get(path);
        if (kind != null) {
            return kind;
        }
        String decoded = GrpcProtocol.percentDecode(path);
        for (Map.Entry<String, GrpcProtocol.MessageKind> e : routes.entrySet()) {
            if (GrpcProtocol.percentDecode(e.getKey()).equals(decoded)) {
                kind = e.getValue();
            }
        }
        return kind;
    }

    /** grpc-go's wording: "unknown service S" when no served path has the service, else "unknown method M ...". */
    private String unknownMessage(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        int slash = p.lastIndexOf('/');
        if (slash < 0) {
            return "malformed method name: \"" + path + "\"";
        }
        String service = p.substring(0, slash);
        String method = p.substring(slash + 1);
        for (String served : routes.keySet()) {
            String s = served.substring(1, served.lastIndexOf('/'));
            if (s.equals(service)) {
                return "unknown method " + method + " for service " + service;
            }
        }
        return "unknown service " + service;
    }

    private void reject(ChannelHandlerContext ctx, Http2Headers response) {
        rejected = true;
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(response, true)).addListener(ChannelFutureListener.CLOSE);
    }

    private void accept(ChannelHandlerContext ctx, Http2HeadersFrame frame, String path,
                        GrpcProtocol.MessageKind kind) {
        Channel stream = ctx.channel();
        ctx.writeAndFlush(GunStreamAdapter.responseHeaders());
        ctx.pipeline().addAfter(ctx.name(), GrpcHandlerNames.ENCODER, new GunFrameEncoder(options.maxMessagePayload()));
        ctx.pipeline().addAfter(ctx.name(), GrpcHandlerNames.DECODER,
                new GunFrameDecoder(kind, options.maxReceiveMessage()));
        ctx.pipeline().addAfter(ctx.name(), GrpcHandlerNames.ADAPTER, new GunStreamAdapter(false));
        ctx.pipeline().remove(this);
        Http2Headers h = frame.headers();
        TunnelInfo info = new TunnelInfo(GrpcOptions.SCHEME, Connections.clientAddress(stream),
                stream.localAddress(), h.authority() == null ? null : h.authority().toString(), path,
                toHttpHeaders(h));
        boolean ok = Establish.tunnel(stream, info, initializer, null, null);
        if (ok && frame.isEndStream()) {
            // A call without a body: the client's half is already closed.
            ctx.fireChannelRead(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
        }
    }

    private static HttpHeaders toHttpHeaders(Http2Headers h) {
        HttpHeaders out = new DefaultHttpHeaders();
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) != ':') {
                out.add(name, e.getValue());
            }
        }
        return out;
    }
}
