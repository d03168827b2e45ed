package dev.tunnelwire.transport.http2;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Connections;
import dev.tunnelwire.internal.Establish;
import dev.tunnelwire.internal.ServerStack;
import dev.tunnelwire.internal.h2.H2Codecs;
import dev.tunnelwire.internal.h2.H2StreamAdapter;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * The HTTP/2-over-TLS server under the {@code http2} handler: each stream's request HEADERS are stored in
 * {@link Http2ProxyStreams#REQUEST} and the stream, with a stream adapter, is handed to the initializer unanswered.
 * A CONNECT needs only {@code :method} and {@code :authority} (Netty's header validation accepts that, as Go's does).
 */
final class Http2ProxyListener implements TunnelListener {

    private final ServerStack stack;
    private final Http2ProxyOptions options;

    Http2ProxyListener(TunnelRuntime runtime, ListenerConfig config, Http2ProxyOptions options) {
        if (config.tls() == null) {
            throw new IllegalArgumentException("http2 runs over TLS only (as gost); use h2c with the http handler for "
                    + "cleartext");
        }
        this.stack = new ServerStack(runtime, config, List.of(ApplicationProtocolNames.HTTP_2), false);
        this.options = options;
    }

    @Override
    public Future<InetSocketAddress> bind(TunnelInitializer initializer) {
        return stack.bind(ch -> install(ch, initializer));
    }

    @Override
    public void serve(Channel connection, TunnelInitializer initializer) {
        stack.install(connection, ch -> install(ch, initializer));
    }

    private void install(Channel ch, TunnelInitializer initializer) {
        H2Codecs.installServer(ch, options.h2(), new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel s) {
                s.pipeline().addLast("tw-http2-request", new RequestHandler(initializer));
            }
        }, transport() + " listener " + ch.localAddress());
    }

    @Override
    public InetSocketAddress localAddress() {
        return stack.localAddress();
    }

    @Override
    public String transport() {
        return Http2ProxyOptions.SCHEME;
    }

    @Override
    public void close() {
        stack.close();
    }

    /** One-shot: takes the request HEADERS, hands the stream on unanswered. Releases the HEADERS frame. */
    private static final class RequestHandler extends ChannelInboundHandlerAdapter {
        private final TunnelInitializer initializer;

        RequestHandler(TunnelInitializer initializer) {
            this.initializer = initializer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof Http2HeadersFrame h)) {
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            Http2Headers req = h.headers();
            ctx.channel().attr(Http2ProxyStreams.REQUEST).set(req);
            ctx.pipeline().addAfter(ctx.name(), H2StreamAdapter.NAME, H2StreamAdapter.forServer());
            ctx.pipeline().remove(this);
            io.netty.handler.codec.http.HttpHeaders headers = dev.tunnelwire.internal.h2.H2Codecs.regularHeaders(req);
            TunnelInfo info = new TunnelInfo(Http2ProxyOptions.SCHEME, Connections.clientAddress(ctx.channel()),
                    ctx.channel().parent().localAddress(), req.authority() == null ? null : req.authority().toString(),
                    req.path() == null ? null : req.path().toString(), headers);
            if (Establish.tunnel(ctx.channel(), info, initializer, null, null) && h.isEndStream()) {
                ctx.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
            }
        }
    }
}
