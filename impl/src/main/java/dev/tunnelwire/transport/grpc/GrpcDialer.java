package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ClientStack;
import dev.tunnelwire.internal.Establish;
import dev.tunnelwire.internal.h2.H2ClientPool;
import dev.tunnelwire.internal.h2.H2Codecs;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.List;

/**
 * Opens each tunnel as one gRPC call (a new stream) on the dialer's pooled HTTP/2 connection
 * ({@link H2ClientPool}: TLS with ALPN {@code h2} required, or cleartext prior knowledge).
 *
 * <p>The request HEADERS ({@code :method POST}, {@code :scheme}, {@code :path}, {@code :authority},
 * {@code content-type: application/grpc}, {@code te: trailers}, {@code user-agent}) and the first payload leave
 * together, without waiting for the response HEADERS (sing-box's lite server sends them only with its first data);
 * the open future completes once they are written. A refused call (non-200, non-zero {@code grpc-status}) fails the
 * open tunnel with {@link GrpcStatusException}.
 */
final class GrpcDialer implements TunnelDialer {

    private final ClientStack stack;
    private final H2ClientPool pool;
    private final GrpcOptions options;
    private final String path;
    private final String authority;
    private final String scheme;

    GrpcDialer(TunnelRuntime runtime, DialerConfig config, GrpcOptions options) {
        this.stack = new ClientStack(runtime, config, List.of(ApplicationProtocolNames.HTTP_2), false);
        this.pool = new H2ClientPool(stack, options.h2());
        this.options = options;
        this.path = options.clientPath();
        this.authority = authority(config, options);
        this.scheme = options.scheme() != null ? options.scheme() : config.tls() != null ? "https" : "http";
    }

    /** The {@code :authority} when none is configured, following each peer family's rule. */
    static String authority(DialerConfig config, GrpcOptions options) {
        if (options.authority() != null) {
            return options.authority();
        }
        String host = config.server().getHostString();
        if (options.flavour() == GrpcOptions.Flavour.GOST) {
            return host;
        }
        if (config.tls() != null && config.tls().serverName() != null && !config.tls().serverName().isEmpty()) {
            return config.tls().serverName();
        }
        if (!NetUtil.isValidIpV4Address(host) && !NetUtil.isValidIpV6Address(host)) {
            return host;
        }
        return config.authority();
    }

    @Override
    public Future<Channel> open(ByteBuf firstPayload, TunnelInitializer initializer) {
        Promise<Channel> promise = stack.runtime().group().next().newPromise();
        pool.newStream(streamInitializer()).addListener(f -> {
            if (!f.isSuccess()) {
                ReferenceCountUtil.safeRelease(firstPayload);
                promise.tryFailure(f.cause());
                return;
            }
            call((Http2StreamChannel) f.getNow(), firstPayload, initializer, promise);
        });
        return promise;
    }

    @Override
    public Future<Channel> openOver(Channel carrier, ByteBuf firstPayload, TunnelInitializer initializer) {
        Promise<Channel> promise = stack.runtime().group().next().newPromise();
        stack.over(carrier).addListener(f -> {
            if (!f.isSuccess()) {
                ReferenceCountUtil.safeRelease(firstPayload);
                promise.tryFailure(f.cause());
                return;
            }
            Channel conn = (Channel) f.getNow();
            // On the connection's loop with autoRead off (ClientStack's contract).
            if (stack.tls() && !ApplicationProtocolNames.HTTP_2.equals(ClientStack.negotiatedProtocol(conn))) {
                conn.close();
                ReferenceCountUtil.safeRelease(firstPayload);
                promise.tryFailure(new HandshakeException("server did not select ALPN h2 (selected: "
                        + ClientStack.negotiatedProtocol(conn) + ")"));
                return;
            }
            conn.pipeline().addLast("tw-h2", H2Codecs.client(options.h2()));
            conn.pipeline().addLast("tw-h2-mux", new Http2MultiplexHandler(new RefuseInboundStreams()));
            conn.pipeline().addLast("tw-h2-window", H2Codecs.connectionWindow(options.h2()));
            ClientStack.startReading(conn);
            new Http2StreamChannelBootstrap(conn).handler(streamInitializer()).open().addListener(s -> {
                if (!s.isSuccess()) {
                    conn.close();
                    ReferenceCountUtil.safeRelease(firstPayload);
                    promise.tryFailure(s.cause());
                    return;
                }
                Http2StreamChannel stream = (Http2StreamChannel) s.getNow();
                // The connection exists for this one tunnel.
                stream.closeFuture().addListener(c -> conn.close());
                call(stream, firstPayload, initializer, promise);
            });
        });
        return promise;
    }

    private ChannelHandler streamInitializer() {
        return new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(GrpcHandlerNames.ADAPTER, new GunStreamAdapter(true));
                ch.pipeline().addLast(GrpcHandlerNames.DECODER,
                        new GunFrameDecoder(options.clientKind(), options.maxReceiveMessage()));
                ch.pipeline().addLast(GrpcHandlerNames.ENCODER, new GunFrameEncoder(options.maxMessagePayload()));
            }
        };
    }

    /** Writes the request HEADERS, runs the initializer, then sends the first payload with them. */
    private void call(Http2StreamChannel stream, ByteBuf firstPayload, TunnelInitializer init,
                      Promise<Channel> promise) {
        if (!stream.eventLoop().inEventLoop()) {
            stream.eventLoop().execute(() -> call(stream, firstPayload, init, promise));
            return;
        }
        stream.write(new DefaultHttp2HeadersFrame(requestHeaders(), false));
        Establish.tunnel(stream, new TunnelInfo(GrpcOptions.SCHEME, stream.remoteAddress(), stream.localAddress(),
                authority, path, null), init, firstPayload, promise);
        stream.flush();
    }

    private Http2Headers requestHeaders() {
        Http2Headers h = new DefaultHttp2Headers()
                .method(GrpcProtocol.POST)
                .scheme(scheme)
                .path(path)
                .authority(authority)
                .set(GrpcProtocol.CONTENT_TYPE, GrpcProtocol.CONTENT_TYPE_GRPC)
                .set(GrpcProtocol.TE, GrpcProtocol.TRAILERS);
        String ua = options.effectiveUserAgent();
        if (!ua.isEmpty()) {
            h.set(GrpcProtocol.USER_AGENT, ua);
        }
        return h;
    }

    /** The {@code :path} this dialer calls. */
    String path() {
        return path;
    }

    /** The {@code :authority} this dialer sends. */
    String authority() {
        return authority;
    }

    @Override
    public String transport() {
        return GrpcOptions.SCHEME;
    }

    @Override
    public void close() {
        pool.close();
    }

    /** Server-initiated streams (push) are disabled in our SETTINGS; any that arrive are closed. */
    @ChannelHandler.Sharable
    private static final class RefuseInboundStreams extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }
}
