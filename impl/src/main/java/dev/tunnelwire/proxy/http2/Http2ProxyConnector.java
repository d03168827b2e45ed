package dev.tunnelwire.proxy.http2;

import dev.tunnelwire.internal.h2.H2StreamAdapter;
import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The client of gost's HTTP/2 proxy ({@code connector/http2}), on a stream of the {@code http2} transport: writes
 * HEADERS with only {@code :method CONNECT} and {@code :authority} = the target (Go's server resets a CONNECT that
 * carries {@code :scheme} or {@code :path}), plus {@code proxy-authorization: Basic} with credentials; any
 * {@code :status} other than 200 fails with a {@link ProxyException} carrying it. The payload is sent after the
 * request, without waiting for the answer (the server reads it once connected).
 */
public final class Http2ProxyConnector implements Connector {

    private final String user;
    private final String password;

    /** @param user {@code null} for no credentials */
    public Http2ProxyConnector(String user, String password) {
        this.user = user;
        this.password = password == null ? "" : password;
    }

    @Override
    public String protocol() {
        return Http2ProxyHandler.PROTOCOL;
    }

    @Override
    public Handshake handshake(Destination destination, ByteBuf payload, ByteBufAllocator alloc) {
        return new Handshake() {
            private ByteBuf held = payload;

            @Override
            public ByteBuf firstBytes() {
                return null;
            }

            @Override
            public void install(Channel tunnel, Promise<Void> ready) {
                Http2Headers h = new DefaultHttp2Headers().method("CONNECT").authority(destination.authority());
                if (user != null) {
                    h.add("proxy-authorization", "Basic " + Base64.getEncoder().encodeToString(
                            (user + ":" + password).getBytes(StandardCharsets.UTF_8)));
                }
                tunnel.pipeline().addBefore(H2StreamAdapter.NAME, "tw-http2-response", new Response(ready));
                tunnel.write(new DefaultHttp2HeadersFrame(h, false));
                if (held != null) {
                    tunnel.write(held);
                    held = null;
                }
                tunnel.flush();
            }
        };
    }

    /** Waits for the response HEADERS; releases them. */
    private static final class Response extends ChannelInboundHandlerAdapter {
        private final Promise<Void> ready;

        Response(Promise<Void> ready) {
            this.ready = ready;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof Http2HeadersFrame h)) {
                ReferenceCountUtil.release(msg);
                fail(ctx, new ProxyException("http2", -1, "data before the response"));
                return;
            }
            CharSequence status = h.headers().status();
            if (status != null && "200".contentEquals(status)) {
                ctx.pipeline().remove(this);
                ready.trySuccess(null);
                return;
            }
            int code = -1;
            try {
                code = Integer.parseInt(String.valueOf(status));
            } catch (NumberFormatException ignored) {
                // -1
            }
            fail(ctx, new ProxyException("http2", code, "proxy answered :status " + status));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail(ctx, new ProxyException("http2", -1, "stream closed before the response"));
            ctx.fireChannelInactive();
        }

        private void fail(ChannelHandlerContext ctx, ProxyException e) {
            if (ready.tryFailure(e)) {
                ctx.close();
            }
        }
    }
}
