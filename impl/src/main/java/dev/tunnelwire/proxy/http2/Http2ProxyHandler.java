package dev.tunnelwire.proxy.http2;

import dev.tunnelwire.internal.ServerSession;
import dev.tunnelwire.proxy.Authenticator;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.HandlerContext;
import dev.tunnelwire.transport.http2.Http2ProxyStreams;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/**
 * The server of gost's HTTP/2 proxy ({@code handler/http2}, peer-gost.md section 3.3), on a stream of the
 * {@code http2} transport: a CONNECT with only {@code :method} and {@code :authority} (target; port 80 when none);
 * {@code proxy-authorization: Basic} checked when users are configured, else {@code :status 407} with
 * {@code proxy-authenticate: Basic realm="..."}; an unreachable target {@code :status 503}; success
 * {@code :status 200} at once (no END_STREAM), then the stream's DATA is relayed both ways. A request other than
 * CONNECT (after the same authentication) is forwarded as HTTP/1.1, as gost does ({@link Http2PlainForwarder}).
 * Error responses end the stream and carry no body.
 */
public final class Http2ProxyHandler implements Handler {

    public static final String PROTOCOL = "http2";
    public static final String DEFAULT_REALM = "tunnelwire";

    private final Authenticator authenticator;
    private final String realm;

    /** @param authenticator {@code null} for no authentication; @param realm {@code null} for the default */
    public Http2ProxyHandler(Authenticator authenticator, String realm) {
        this.authenticator = authenticator;
        this.realm = Objects.requireNonNullElse(realm, DEFAULT_REALM);
    }

    @Override
    public String protocol() {
        return PROTOCOL;
    }

    @Override
    public void init(Channel tunnel, HandlerContext context) {
        tunnel.pipeline().addLast("tw-http2-handler", new ChannelInboundHandlerAdapter() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) {
                Http2Headers req = ctx.channel().attr(Http2ProxyStreams.REQUEST).get();
                if (req == null) {
                    ServerSession.warn(context, ctx.channel(), PROTOCOL, "not an http2 transport stream", null);
                    ctx.close();
                    return;
                }
                if (!authorized(req)) {
                    ServerSession.warn(context, ctx.channel(), PROTOCOL, "authentication failed", null);
                    Http2Headers h = new DefaultHttp2Headers().status("407")
                            .add("proxy-authenticate", "Basic realm=\"" + realm + "\"");
                    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(h, true)).addListener(ChannelFutureListener.CLOSE);
                    return;
                }
                if (!"CONNECT".contentEquals(Objects.requireNonNullElse(req.method(), ""))) {
                    ctx.pipeline().replace(this, "tw-http2-forward", new Http2PlainForwarder(req, context));
                    return;
                }
                Destination target;
                try {
                    String authority = Objects.requireNonNullElse(req.authority(), "").toString();
                    target = Destination.parse(authority.lastIndexOf(':') > authority.lastIndexOf(']')
                            ? authority : authority + ":80");
                } catch (IllegalArgumentException e) {
                    reply(ctx.channel(), "400", true);
                    return;
                }
                ServerSession.connect(ctx, context, PROTOCOL, target, false, new ServerSession.Replies() {
                    @Override
                    public void connected(Channel inbound) {
                        inbound.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"),
                                false));
                    }

                    @Override
                    public void failed(Channel inbound, Throwable cause) {
                        reply(inbound, "503", true);
                    }
                });
                ctx.pipeline().remove(this);
            }
        });
    }

    private boolean authorized(Http2Headers req) {
        if (authenticator == null) {
            return true;
        }
        CharSequence h = req.get("proxy-authorization");
        if (h == null || h.length() < 6 || !h.toString().regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(h.toString().substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return false;
        }
        int colon = decoded.indexOf(':');
        return colon >= 0 && authenticator.authenticate(decoded.substring(0, colon), decoded.substring(colon + 1));
    }

    private static void reply(Channel ch, String status, boolean end) {
        ch.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status(status), end))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
