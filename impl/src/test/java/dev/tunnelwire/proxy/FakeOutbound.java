package dev.tunnelwire.proxy;

import dev.tunnelwire.internal.HoldInbound;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.time.Duration;

/**
 * An {@link Outbound} for EmbeddedChannel tests: records the destination, hands out an {@link EmbeddedChannel} as
 * the outbound connection (first payload written to it), or fails with {@link #failure}.
 */
public final class FakeOutbound implements Outbound {

    public Destination destination;
    public byte[] firstPayload;
    public EmbeddedChannel channel;
    public Throwable failure;
    public int connects;

    public static HandlerContext context(Outbound o) {
        return new HandlerContext("test", o, Duration.ofSeconds(15), Duration.ZERO);
    }

    @Override
    public Future<Channel> connect(Destination destination, ByteBuf first) {
        connects++;
        this.destination = destination;
        this.firstPayload = first == null ? null : ByteBufUtil.getBytes(first);
        Promise<Channel> p = ImmediateEventExecutor.INSTANCE.newPromise();
        if (failure != null) {
            ReferenceCountUtil.safeRelease(first);
            return p.setFailure(failure);
        }
        channel = new EmbeddedChannel();
        channel.pipeline().addLast(HOLD, new HoldInbound());
        if (first != null) {
            channel.writeAndFlush(first);
        }
        return p.setSuccess(channel);
    }

    /** Reads and concatenates everything written outbound on {@code ch}. */
    public static byte[] drainOutbound(EmbeddedChannel ch) {
        ByteBuf all = Unpooled.buffer();
        Object m;
        while ((m = ch.readOutbound()) != null) {
            if (m instanceof ByteBuf b) {
                all.writeBytes(b);
            }
            ReferenceCountUtil.release(m);
        }
        byte[] out = ByteBufUtil.getBytes(all);
        all.release();
        return out;
    }

    /** Reads and concatenates everything fired inbound out of {@code ch}'s pipeline. */
    public static byte[] drainInbound(EmbeddedChannel ch) {
        ByteBuf all = Unpooled.buffer();
        Object m;
        while ((m = ch.readInbound()) != null) {
            if (m instanceof ByteBuf b) {
                all.writeBytes(b);
            }
            ReferenceCountUtil.release(m);
        }
        byte[] out = ByteBufUtil.getBytes(all);
        all.release();
        return out;
    }

    public static byte[] hex(String s) {
        return ByteBufUtil.decodeHexDump(s.replaceAll("[\\s|]", ""));
    }

    public static final IOException REFUSED = new java.net.ConnectException("Connection refused");
}
