package dev.tunnelwire.transport.http;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Connections;
import dev.tunnelwire.internal.HalfCloseHandler;
import dev.tunnelwire.internal.ServerStack;
import dev.tunnelwire.internal.h2.H2Codecs;
import dev.tunnelwire.internal.h2.H2ConnectionErrors;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Server of the V2Ray HTTP transport: one port for HTTP/1.1, HTTP/2 over TLS (ALPN {@code h2}, {@code http/1.1}) and
 * h2c with prior knowledge. As in sing-box, the protocol is chosen by the first bytes after TLS, not by ALPN: the
 * HTTP/2 preface selects HTTP/2 ({@link HttpServerSniffer}), anything else is parsed as an HTTP/1.1 request
 * ({@link H1ServerHandshakeHandler}, the connection becomes the tunnel); every HTTP/2 stream is a tunnel
 * ({@link H2ServerStreamHandler}).
 */
final class HttpListener implements TunnelListener {

    static final String H1_DECODER = "tw-v2rayhttp-decoder";
    static final String H1_ENCODER = "tw-v2rayhttp-encoder";

    private final ServerStack stack;
    private final HttpOptions options;

    HttpListener(TunnelRuntime runtime, ListenerConfig config, HttpOptions options) {
        this.stack = new ServerStack(runtime, config,
                List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1), true);
        this.options = options;
    }

    HttpOptions options() {
        return options;
    }

    @Override
    public Future<InetSocketAddress> bind(TunnelInitializer initializer) {
        return stack.bind(ch -> addSniffer(ch, initializer));
    }

    @Override
    public void serve(Channel connection, TunnelInitializer initializer) {
        stack.install(connection, ch -> addSniffer(ch, initializer));
    }

    private void addSniffer(Channel ch, TunnelInitializer initializer) {
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        if (ssl != null) {
            ssl.setHandshakeTimeout(options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        ch.pipeline().addLast(HttpServerSniffer.NAME, new HttpServerSniffer(this, initializer));
    }

    /** Installs the HTTP/1.1 request decoder, response encoder and handshake handler after {@code after}. */
    void installH1(ChannelPipeline p, String after, TunnelInitializer initializer, Runnable cancelTimeout) {
        int maxHeader = options.h2().maxHeaderListSize();
        p.addAfter(after, H1_DECODER, new HttpRequestDecoder(HttpProtocol.MAX_INITIAL_LINE_LENGTH, maxHeader, 8192));
        p.addAfter(H1_DECODER, H1_ENCODER, new HttpResponseEncoder());
        p.addAfter(H1_ENCODER, H1ServerHandshakeHandler.NAME,
                new H1ServerHandshakeHandler(this, initializer, cancelTimeout));
    }

    /** Installs the HTTP/2 server codec and stream multiplexer after {@code after}. */
    void installH2(ChannelPipeline p, String after, TunnelInitializer initializer) {
        Channel ch = p.channel();
        // HTTP/2 has no half-close of the connection: a FIN ends it.
        ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
        if (p.get(HalfCloseHandler.NAME) != null) {
            p.remove(HalfCloseHandler.NAME);
        }
        // sing-box's idle_timeout closes idle server connections when set; otherwise the server default applies
        String last = H2Codecs.addServer(p, after, options.h2(), options.h2().idleTimeout().isZero()
                ? options.h2().serverIdleTimeout() : options.h2().idleTimeout());
        p.addAfter(last, "tw-h2-mux", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                stream.pipeline().addLast(H2ServerStreamHandler.NAME,
                        new H2ServerStreamHandler(HttpListener.this, initializer));
            }
        }));
        // Last: it raises the connection window and removes itself at once on an active connection.
        p.addAfter("tw-h2-mux", "tw-h2-window", H2Codecs.connectionWindow(options.h2()));
        p.addLast(H2ConnectionErrors.NAME, new H2ConnectionErrors(transport() + " listener " + ch.localAddress()));
    }

    /**
     * The tunnel's client address: the first {@code X-Forwarded-For} element when trusted and an IP literal (port 0),
     * else the PROXY protocol source or the TCP peer.
     */
    SocketAddress clientAddress(Channel ch, HttpHeaders headers) {
        if (options.trustXForwardedFor() && headers != null) {
            String xff = headers.get("X-Forwarded-For");
            if (xff != null) {
                for (String part : xff.split(",")) {
                    String ip = part.strip();
                    byte[] bytes = NetUtil.createByteArrayFromIpAddressString(ip);
                    if (bytes != null) {
                        try {
                            return new InetSocketAddress(InetAddress.getByAddress(bytes), 0);
                        } catch (UnknownHostException e) {
                            break;
                        }
                    }
                }
            }
        }
        return Connections.clientAddress(ch);
    }

    @Override
    public InetSocketAddress localAddress() {
        return stack.localAddress();
    }

    @Override
    public String transport() {
        return HttpOptions.SCHEME;
    }

    @Override
    public void close() {
        stack.close();
    }
}
