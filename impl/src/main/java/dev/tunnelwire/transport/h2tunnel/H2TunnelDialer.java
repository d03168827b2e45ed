package dev.tunnelwire.transport.h2tunnel;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ClientStack;
import dev.tunnelwire.internal.h2.H2ClientPool;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The h2/h2c tunnel client: one pooled HTTP/2 connection (ALPN {@code h2} over TLS, prior knowledge in cleartext),
 * one stream per tunnel, opened with {@link H2TunnelClientHandshake}. Running over a carrier channel is not supported:
 * the connection is shared by all tunnels of the dialer.
 */
final class H2TunnelDialer implements TunnelDialer {

    private final ClientStack stack;
    private final H2ClientPool pool;
    private final H2TunnelOptions options;
    private final String authority;
    private final boolean tls;

    H2TunnelDialer(TunnelRuntime runtime, DialerConfig config, H2TunnelOptions options) {
        this.stack = new ClientStack(runtime, config, List.of(ApplicationProtocolNames.HTTP_2), false);
        this.pool = new H2ClientPool(stack, options.h2());
        this.options = options;
        this.authority = options.host() != null ? options.host() : config.authority();
        this.tls = config.tls() != null;
    }

    Http2Headers requestHeaders() {
        Http2Headers h = new DefaultHttp2Headers();
        if (options.path() == null) {
            h.method("CONNECT").authority(authority);
        } else {
            h.method("GET").scheme(tls ? "https" : "http").authority(authority).path(options.path());
        }
        h.add("user-agent", options.userAgent());
        for (Map.Entry<String, String> e : options.headers().entrySet()) {
            h.add(e.getKey().toLowerCase(Locale.ROOT), e.getValue());
        }
        return h;
    }

    @Override
    public Future<Channel> open(ByteBuf firstPayload, TunnelInitializer initializer) {
        Promise<Channel> promise = stack.runtime().group().next().newPromise();
        H2TunnelClientHandshake hs = new H2TunnelClientHandshake(requestHeaders(), initializer, firstPayload,
                promise, options.handshakeTimeout().toMillis());
        pool.newStream(hs).addListener(f -> {
            if (!f.isSuccess()) {
                ReferenceCountUtil.safeRelease(firstPayload);
                promise.tryFailure(f.cause());
                return;
            }
            Http2StreamChannel s = (Http2StreamChannel) f.getNow();
            s.eventLoop().execute(() -> {
                ChannelHandlerContext ctx = s.pipeline().context(hs);
                if (ctx == null) {
                    ReferenceCountUtil.safeRelease(firstPayload);
                    promise.tryFailure(new IllegalStateException("h2 tunnel stream closed before its request"));
                    return;
                }
                hs.start(ctx);
            });
        });
        return promise;
    }

    @Override
    public Future<Channel> openOver(Channel carrier, ByteBuf firstPayload, TunnelInitializer initializer) {
        ReferenceCountUtil.safeRelease(firstPayload);
        return carrier.eventLoop().newFailedFuture(new UnsupportedOperationException(
                "the h2 tunnel multiplexes one pooled connection; it cannot run over a carrier channel"));
    }

    @Override
    public String transport() {
        return H2TunnelOptions.SCHEME;
    }

    @Override
    public void close() {
        pool.close();
    }
}
