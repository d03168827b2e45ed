package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ServerStack;
import dev.tunnelwire.internal.h2.H2Codecs;
import dev.tunnelwire.internal.h2.H2ConnectionErrors;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Serves gun and GOST gRPC calls on one port: HTTP/2 over TLS (ALPN {@code h2}, the only protocol offered) or
 * cleartext with prior knowledge. Every accepted call on a served path is a tunnel; see
 * {@link GunServerHandshakeHandler} for request validation and {@link GrpcKeepalivePolicyHandler} for the PING
 * policy. HTTP/2 protections (rapid reset, CONTINUATION and control-frame floods, stream limits) come from
 * {@link H2Codecs#server}.
 */
final class GrpcListener implements TunnelListener {

    private final ServerStack stack;
    private final GrpcOptions options;
    private final Map<String, GrpcProtocol.MessageKind> routes;

    GrpcListener(TunnelRuntime runtime, ListenerConfig config, GrpcOptions options) {
        this.stack = new ServerStack(runtime, config, List.of(ApplicationProtocolNames.HTTP_2), false);
        this.options = options;
        this.routes = Map.copyOf(options.serverRoutes());
    }

    @Override
    public Future<InetSocketAddress> bind(TunnelInitializer initializer) {
        return stack.bind(ch -> addHttp2(ch, initializer));
    }

    @Override
    public void serve(Channel connection, TunnelInitializer initializer) {
        stack.install(connection, ch -> addHttp2(ch, initializer));
    }

    private void addHttp2(Channel ch, TunnelInitializer initializer) {
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        if (ssl != null) {
            ssl.setHandshakeTimeout(options.tlsHandshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        String last = H2Codecs.addServer(ch.pipeline(), null, options.h2(), options.h2().serverIdleTimeout());
        ch.pipeline().addAfter(last, GrpcHandlerNames.KEEPALIVE_POLICY, new GrpcKeepalivePolicyHandler(
                options.permitKeepaliveTime().toNanos(), options.permitKeepaliveWithoutCalls()));
        ch.pipeline().addLast("tw-h2-mux", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                stream.pipeline().addLast(GrpcHandlerNames.HANDSHAKE,
                        new GunServerHandshakeHandler(routes, options, initializer));
            }
        }));
        ch.pipeline().addLast("tw-h2-window", H2Codecs.connectionWindow(options.h2()));
        ch.pipeline().addLast(H2ConnectionErrors.NAME, new H2ConnectionErrors(transport() + " listener "
                + ch.localAddress()));
    }

    @Override
    public InetSocketAddress localAddress() {
        return stack.localAddress();
    }

    @Override
    public String transport() {
        return GrpcOptions.SCHEME;
    }

    @Override
    public void close() {
        stack.close();
    }
}
