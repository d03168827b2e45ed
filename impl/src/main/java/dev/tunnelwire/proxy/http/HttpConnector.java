package dev.tunnelwire.proxy.http;

import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/**
 * The HTTP CONNECT client. Sends
 * <pre>
 * CONNECT host:port HTTP/1.1
 * Host: host:port
 * Proxy-Authorization: Basic base64(user:password)     (with credentials)
 * Proxy-Connection: keep-alive
 * </pre>
 * followed at once by the first payload (HTTP proxies, gost's among them, keep bytes pipelined after the request).
 * The connection is ready after a {@code 200}; any other status fails it with a {@link ProxyException} whose code
 * is the status. Unlike gost's client, bytes that arrive in the same read as the 200 are kept: the response decoder
 * hands its leftovers on when it is removed.
 */
public final class HttpConnector implements Connector {

    private final HttpConnectorOptions options;

    public HttpConnector(HttpConnectorOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public String protocol() {
        return HttpHandler.PROTOCOL;
    }

    @Override
    public Handshake handshake(Destination destination, ByteBuf payload, ByteBufAllocator alloc) {
        StringBuilder sb = new StringBuilder(128);
        String authority = destination.authority();
        sb.append("CONNECT ").append(authority).append(" HTTP/1.1\r\nHost: ").append(authority).append("\r\n");
        if (options.user() != null) {
            String cred = options.user() + ":" + (options.password() == null ? "" : options.password());
            sb.append("Proxy-Authorization: Basic ")
                    .append(Base64.getEncoder().encodeToString(cred.getBytes(StandardCharsets.UTF_8)))
                    .append("\r\n");
        }
        sb.append("Proxy-Connection: keep-alive\r\n\r\n");
        ByteBuf request = alloc.buffer(sb.length()).writeBytes(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
        ByteBuf first = payload == null ? request : alloc.compositeBuffer(2).addComponents(true, request, payload);
        return new Handshake() {
            @Override
            public ByteBuf firstBytes() {
                return first;
            }

            @Override
            public void install(Channel tunnel, Promise<Void> ready) {
                tunnel.pipeline().addLast("tw-http-decoder", new HttpResponseDecoder());
                tunnel.pipeline().addLast("tw-http-client", new ResponseHandler(ready));
            }
        };
    }

    /** Waits for the response head; on 200 removes itself and the decoder, whose leftovers flow on. */
    static final class ResponseHandler extends ChannelInboundHandlerAdapter {
        private final Promise<Void> ready;

        ResponseHandler(Promise<Void> ready) {
            this.ready = ready;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            try {
                if (!(msg instanceof HttpResponse r)) {
                    return;
                }
                if (!r.decoderResult().isSuccess()) {
                    throw new ProxyException(HttpHandler.PROTOCOL, -1, "malformed response: "
                            + r.decoderResult().cause());
                }
                if (r.status().code() != 200) {
                    throw new ProxyException(HttpHandler.PROTOCOL, r.status().code(), "CONNECT refused: "
                            + r.status());
                }
                ctx.pipeline().remove(this);
                ctx.pipeline().remove("tw-http-decoder");
                ready.trySuccess(null);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            ready.tryFailure(new ProxyException(HttpHandler.PROTOCOL, -1, "connection closed before the response"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ready.tryFailure(cause);
            ctx.close();
        }
    }
}
