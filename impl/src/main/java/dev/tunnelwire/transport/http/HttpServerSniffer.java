package dev.tunnelwire.transport.http;

import dev.tunnelwire.TunnelInitializer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Chooses the protocol of a server connection from its first bytes, as sing-box does (its server sees the HTTP/2
 * preface as a request with method {@code PRI} and hands it to its h2c handler, for TLS and cleartext alike): the
 * 24-byte HTTP/2 client preface selects HTTP/2, any other byte sequence (told apart at the first differing byte)
 * HTTP/1.1. The bytes are only inspected; on removal they are passed to the installed codec.
 *
 * <p>Also owns the server's handshake timeout, which runs from the moment the connection is set up (so it covers
 * the TLS handshake and the PROXY header too) until the HTTP/2 preface or the HTTP/1.1 request head is complete; on
 * expiry the connection is closed without a response, as Go's {@code ReadHeaderTimeout} does.
 */
final class HttpServerSniffer extends ByteToMessageDecoder {

    static final String NAME = "tw-v2rayhttp-sniffer";

    private final HttpListener listener;
    private final TunnelInitializer initializer;
    private ScheduledFuture<?> timeout;

    HttpServerSniffer(HttpListener listener, TunnelInitializer initializer) {
        this.listener = listener;
        this.initializer = initializer;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> {
            ctx.channel().close();
        }, listener.options().handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        byte[] preface = HttpProtocol.H2_PREFACE;
        int n = Math.min(in.readableBytes(), preface.length);
        int start = in.readerIndex();
        for (int i = 0; i < n; i++) {
            if (in.getByte(start + i) != preface[i]) {
                listener.installH1(ctx.pipeline(), ctx.name(), initializer, this::cancelTimeout);
                ctx.pipeline().remove(this);
                return;
            }
        }
        if (n == preface.length) {
            cancelTimeout();
            listener.installH2(ctx.pipeline(), ctx.name(), initializer);
            ctx.pipeline().remove(this);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            ctx.close(); // the client gave up before saying anything useful
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelTimeout();
        super.channelInactive(ctx);
    }
}
