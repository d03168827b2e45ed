package dev.tunnelwire.transport.http;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ClientStack;
import dev.tunnelwire.internal.Establish;
import dev.tunnelwire.internal.h2.H2ClientPool;
import dev.tunnelwire.internal.h2.H2StreamAdapter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.List;

/**
 * Client of the V2Ray HTTP transport. Two modes, fixed by the configuration:
 * <ul>
 *   <li><b>HTTP/1.1</b> (cleartext, no {@link HttpOptions#h2cPriorKnowledge}): one TCP connection per tunnel; the
 *       request head goes out with the first payload ({@link H1ClientHandshakeHandler}); half-close is a TCP FIN.</li>
 *   <li><b>HTTP/2</b> (TLS with ALPN {@code h2}, or h2c with prior knowledge): every tunnel is a new stream of the
 *       dialer's pooled connection ({@link H2ClientPool}); its request HEADERS are sent at once and the first
 *       payload follows as DATA; half-close is END_STREAM. Over a carrier ({@link #openOver}) the tunnel gets a
 *       connection of its own, closed with it.</li>
 * </ul>
 */
final class HttpDialer implements TunnelDialer {

    private final HttpOptions options;
    private final ClientStack stack;
    private final boolean h2;
    private final H2ClientPool pool;

    HttpDialer(TunnelRuntime runtime, DialerConfig config, HttpOptions options) {
        this.options = options;
        this.h2 = config.tls() != null || options.h2cPriorKnowledge();
        this.stack = new ClientStack(runtime, config, h2 ? List.of(ApplicationProtocolNames.HTTP_2) : List.of(),
                !h2);
        this.pool = h2 ? new H2ClientPool(stack, options.h2()) : null;
    }

    /** For tests: the pool of the HTTP/2 mode, {@code null} in HTTP/1.1 mode. */
    H2ClientPool pool() {
        return pool;
    }

    @Override
    public Future<Channel> open(ByteBuf firstPayload, TunnelInitializer initializer) {
        if (h2) {
            Promise<Channel> promise = stack.runtime().group().next().newPromise();
            pool.newStream(streamHandlers()).addListener(f -> {
                if (!f.isSuccess()) {
                    ReferenceCountUtil.safeRelease(firstPayload);
                    promise.tryFailure(f.cause());
                    return;
                }
                Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
                stream.eventLoop().execute(() -> startStream(stream, firstPayload, initializer, promise));
            });
            return promise;
        }
        return establishH1(stack.connect(), firstPayload, initializer);
    }

    @Override
    public Future<Channel> openOver(Channel carrier, ByteBuf firstPayload, TunnelInitializer initializer) {
        if (!h2) {
            return establishH1(stack.over(carrier), firstPayload, initializer);
        }
        Promise<Channel> promise = carrier.eventLoop().newPromise();
        stack.over(carrier).addListener(f -> {
            if (!f.isSuccess()) {
                ReferenceCountUtil.safeRelease(firstPayload);
                promise.tryFailure(f.cause());
                return;
            }
            Channel conn = (Channel) f.getNow();
            try {
                if (stack.tls() && !ApplicationProtocolNames.HTTP_2.equals(ClientStack.negotiatedProtocol(conn))) {
                    throw new HandshakeException("server did not select ALPN h2 (selected: "
                            + ClientStack.negotiatedProtocol(conn) + ")");
                }
                H2ClientPool.install(conn, options.h2());
                ClientStack.startReading(conn);
            } catch (Throwable t) {
                ReferenceCountUtil.safeRelease(firstPayload);
                conn.close();
                promise.tryFailure(t);
                return;
            }
            new Http2StreamChannelBootstrap(conn).handler(streamHandlers()).open().addListener(s -> {
                if (!s.isSuccess()) {
                    ReferenceCountUtil.safeRelease(firstPayload);
                    conn.close();
                    promise.tryFailure(s.cause());
                    return;
                }
                Http2StreamChannel stream = (Http2StreamChannel) s.getNow();
                stream.closeFuture().addListener(x -> conn.close());
                startStream(stream, firstPayload, initializer, promise);
            });
        });
        return promise;
    }

    private static ChannelInitializer<Channel> streamHandlers() {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(H2ClientHandshakeHandler.NAME, new H2ClientHandshakeHandler());
                ch.pipeline().addLast(H2StreamAdapter.NAME, H2StreamAdapter.forClient());
            }
        };
    }

    /** On the stream's event loop: request HEADERS, then the application's initializer, then the first payload. */
    private void startStream(Http2StreamChannel stream, ByteBuf firstPayload, TunnelInitializer init,
                             Promise<Channel> promise) {
        String authority = HttpProtocol.pickHost(options.hosts(), HttpOptions.DEFAULT_H2_AUTHORITY);
        Http2Headers headers = HttpProtocol.requestHeaders(options, authority);
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, false)).addListener(w -> {
            if (!w.isSuccess()) {
                stream.close();
            }
        });
        Establish.tunnel(stream, new TunnelInfo(HttpOptions.SCHEME, stream.remoteAddress(), stream.localAddress(),
                authority, headers.path().toString(), null), init, firstPayload, promise);
    }

    private Future<Channel> establishH1(Future<Channel> connected, ByteBuf firstPayload, TunnelInitializer init) {
        Promise<Channel> promise = stack.runtime().group().next().newPromise();
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                ReferenceCountUtil.safeRelease(firstPayload);
                promise.tryFailure(f.cause());
                return;
            }
            Channel ch = (Channel) f.getNow();
            // On the channel's loop with autoRead off (ClientStack's contract): handlers first, then reading.
            String host = HttpProtocol.pickHost(options.hosts(), HttpProtocol.hostWithoutPort(stack.config().server()));
            H1ClientHandshakeHandler hs = new H1ClientHandshakeHandler(
                    HttpProtocol.requestHead(ch.alloc(), options, host), options.handshakeTimeout().toMillis());
            ch.pipeline().addLast(H1ClientHandshakeHandler.DECODER, new HttpResponseDecoder());
            ch.pipeline().addLast(H1ClientHandshakeHandler.NAME, hs);
            ClientStack.startReading(ch);
            if (Establish.tunnel(ch, new TunnelInfo(HttpOptions.SCHEME, ch.remoteAddress(), ch.localAddress(), host,
                    HttpProtocol.requestTarget(options.path()), null), init, firstPayload, promise)) {
                ChannelHandlerContext ctx = ch.pipeline().context(hs);
                if (ctx != null) {
                    hs.sendRequest(ctx);
                }
            }
        });
        return promise;
    }

    @Override
    public String transport() {
        return HttpOptions.SCHEME;
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.close();
        }
    }
}
