package dev.tunnelwire.transport.http2;

import dev.tunnelwire.DialerConfig;
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
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.List;

/**
 * Opens streams on one pooled HTTP/2-over-TLS connection; each stream becomes a tunnel at once, without a request:
 * the {@code http2} connector writes the CONNECT HEADERS. Bytes written before them (a first payload) are held until
 * the HEADERS went out.
 */
final class Http2ProxyDialer implements TunnelDialer {

    private final ClientStack stack;
    private final H2ClientPool pool;

    Http2ProxyDialer(TunnelRuntime runtime, DialerConfig config, Http2ProxyOptions options) {
        if (config.tls() == null) {
            throw new IllegalArgumentException("http2 runs over TLS only (as gost); use h2c with the http handler for "
                    + "cleartext");
        }
        this.stack = new ClientStack(runtime, config, List.of(ApplicationProtocolNames.HTTP_2), false);
        this.pool = new H2ClientPool(stack, options.h2());
    }

    @Override
    public Future<Channel> open(ByteBuf firstPayload, TunnelInitializer initializer) {
        Promise<Channel> promise = stack.runtime().group().next().newPromise();
        pool.newStream(new ChannelInboundHandlerAdapter()).addListener(f -> {
            if (!f.isSuccess()) {
                ReferenceCountUtil.safeRelease(firstPayload);
                promise.tryFailure(f.cause());
                return;
            }
            Http2StreamChannel s = (Http2StreamChannel) f.getNow();
            s.eventLoop().execute(() -> {
                s.pipeline().addLast(H2StreamAdapter.NAME, H2StreamAdapter.forClient());
                s.pipeline().addLast(Http2ProxyStreams.HoldUntilRequest.NAME, new Http2ProxyStreams.HoldUntilRequest());
                TunnelInfo info = TunnelInfo.of(Http2ProxyOptions.SCHEME, s.parent().remoteAddress(),
                        s.parent().localAddress());
                Establish.tunnel(s, info, initializer, firstPayload, promise);
            });
        });
        return promise;
    }

    @Override
    public Future<Channel> openOver(Channel carrier, ByteBuf firstPayload, TunnelInitializer initializer) {
        ReferenceCountUtil.safeRelease(firstPayload);
        return carrier.eventLoop().newFailedFuture(new UnsupportedOperationException(
                "http2 multiplexes one pooled connection; it cannot run over a carrier channel"));
    }

    @Override
    public String transport() {
        return Http2ProxyOptions.SCHEME;
    }

    @Override
    public void close() {
        pool.close();
    }
}
