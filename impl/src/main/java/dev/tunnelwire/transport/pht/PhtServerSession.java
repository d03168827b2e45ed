package dev.tunnelwire.transport.pht;

import dev.tunnelwire.internal.SessionChannel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The server side of one PHT session: owns the tunnel's {@link SessionChannel} and moves its bytes.
 *
 * <p>Downstream: while a pull response is open and its connection writable, flushed tunnel data is taken in chunks of
 * at most {@code maxChunk} bytes and written as base64 lines, each flushed at once. A pull that carried nothing for
 * {@code pullIdle} ends with a {@code "\n"} heartbeat (the client polls again); when the tunnel closes, the open pull
 * (and any later pull for this token) ends with no line, which is how a gost client learns of the close.
 *
 * <p>Upstream: a push's decoded bytes go to the tunnel when the application reads, and the push is answered
 * {@code 200} only then, so a client that pushes faster than the application reads is held back.
 *
 * <p>Threading: all state is confined to the session channel's event loop; HTTP handlers hop onto it.
 */
final class PhtServerSession implements SessionChannel.Backend {

    private final String token;
    private final PhtOptions options;
    private final PhtSessions registry;
    private SessionChannel channel;
    private EventLoop loop;
    private Pull pull;
    private boolean closed;
    private long lastActivity = System.nanoTime();
    private ScheduledFuture<?> expiry;

    /** One open pull response. */
    private static final class Pull {
        final ChannelHandlerContext ctx;
        final boolean keepAlive;
        int lines;
        long lastLine = System.nanoTime();
        ScheduledFuture<?> idle;

        Pull(ChannelHandlerContext ctx, boolean keepAlive) {
            this.ctx = ctx;
            this.keepAlive = keepAlive;
        }
    }

    PhtServerSession(String token, PhtOptions options, PhtSessions registry) {
        this.token = token;
        this.options = options;
        this.registry = registry;
    }

    /** Binds the channel before it is registered (so that {@link #loop()} works for early requests). */
    void attach0(SessionChannel ch, EventLoop loop) {
        this.channel = ch;
        this.loop = loop;
    }

    /** Starts session housekeeping once the channel is registered. */
    void attach(SessionChannel ch) {
        this.channel = ch;
        long period = Math.max(100, options.sessionIdleTimeout().toMillis() / 2);
        expiry = ch.eventLoop().scheduleAtFixedRate(this::checkExpiry, period, period, TimeUnit.MILLISECONDS);
    }

    String token() {
        return token;
    }

    EventLoop loop() {
        return loop;
    }

    /** Opens a pull response on {@code ctx}; must run on {@link #loop()}. */
    void pull(ChannelHandlerContext ctx, boolean keepAlive) {
        lastActivity = System.nanoTime();
        if (pull != null) {
            // A newer pull replaces an older one; end the old one with a heartbeat so its client polls again.
            end(pull, true);
        }
        Pull p = new Pull(ctx, keepAlive);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        if (!keepAlive) {
            head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.writeAndFlush(head);
        if (closed) {
            end(p, false);
            return;
        }
        pull = p;
        scheduleIdle(p);
        channel.kick();
    }

    /** Handles a push body; must run on {@link #loop()}. Takes ownership of {@code body}. */
    void push(ChannelHandlerContext ctx, ByteBuf body, boolean keepAlive) {
        lastActivity = System.nanoTime();
        try {
            if (closed) {
                PhtServerHandler.respond(ctx, HttpResponseStatus.GONE, null, keepAlive);
                return;
            }
            int nl = body.indexOf(body.readerIndex(), body.writerIndex(), (byte) '\n');
            if (nl < 0) {
                // No line at all: the client closes the tunnel (gost: EOF before a newline).
                PhtServerHandler.respond(ctx, HttpResponseStatus.OK, null, keepAlive);
                channel.close();
                return;
            }
            ByteBuf line = body.slice(body.readerIndex(), nl - body.readerIndex());
            if (!line.isReadable()) {
                PhtServerHandler.respond(ctx, HttpResponseStatus.OK, null, keepAlive);
                return;
            }
            ByteBuf data;
            try {
                data = PhtProtocol.decodeLine(ctx.alloc(), line);
            } catch (IllegalArgumentException e) {
                PhtServerHandler.respond(ctx, HttpResponseStatus.BAD_REQUEST, null, keepAlive);
                channel.close();
                return;
            }
            channel.deliver(data, () -> PhtServerHandler.respond(ctx, HttpResponseStatus.OK, null, keepAlive));
        } finally {
            body.release();
        }
    }

    /** The connection of {@code ctx} closed: forget its pull if it was the open one. */
    void connectionClosed(ChannelHandlerContext ctx) {
        if (pull != null && pull.ctx == ctx) {
            if (pull.idle != null) {
                pull.idle.cancel(false);
            }
            pull = null;
        }
    }

    /** The pull connection became writable again: continue sending. */
    void writable() {
        channel.kick();
    }

    @Override
    public void outboundReady(SessionChannel ch) {
        Pull p = pull;
        int budget = 16;
        while (p != null && p.ctx.channel().isWritable() && budget-- > 0) {
            List<ByteBuf> parts = ch.takeOutbound(options.maxChunk());
            if (parts.isEmpty()) {
                break;
            }
            ByteBuf chunk = parts.size() == 1 ? parts.get(0)
                    : ch.alloc().compositeBuffer(parts.size()).addComponents(true, parts);
            ByteBuf line;
            try {
                line = PhtProtocol.encodeLine(p.ctx.alloc(), chunk);
            } finally {
                chunk.release();
            }
            p.lines++;
            p.lastLine = System.nanoTime();
            p.ctx.writeAndFlush(new DefaultHttpContent(line));
        }
        if (p != null && ch.hasOutbound() && budget < 0) {
            ch.eventLoop().execute(ch::kick);
        }
    }

    @Override
    public void closed(SessionChannel ch) {
        closed = true;
        if (expiry != null) {
            expiry.cancel(false);
        }
        if (pull != null) {
            end(pull, false);
            pull = null;
        }
        registry.closed(this);
    }

    private void scheduleIdle(Pull p) {
        long idleMillis = options.pullIdle().toMillis();
        p.idle = channel.eventLoop().schedule(() -> {
            if (pull != p) {
                return;
            }
            long since = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - p.lastLine);
            if (since >= idleMillis) {
                end(p, true);
                pull = null;
            } else {
                scheduleIdle(p);
            }
        }, idleMillis, TimeUnit.MILLISECONDS);
    }

    /** Ends a pull: with a {@code "\n"} heartbeat when merely idle, with no line when the tunnel is closed. */
    private void end(Pull p, boolean heartbeat) {
        if (p.idle != null) {
            p.idle.cancel(false);
        }
        if (heartbeat) {
            p.ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[] {'\n'})));
        }
        var f = p.ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        if (!p.keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
        PhtServerHandler.pullEnded(p.ctx);
    }

    private void checkExpiry() {
        if (closed || pull != null) {
            return;
        }
        long idle = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastActivity);
        if (idle >= options.sessionIdleTimeout().toMillis()) {
            channel.close();
        }
    }
}
