package dev.tunnelwire.internal;

import dev.tunnelwire.Tunnels;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Joins two byte channels: what one reads, the other writes, in both directions, until both are done.
 *
 * <ul>
 *   <li><b>Backpressure:</b> a side stops reading ({@code autoRead} off) while the other side is not writable and
 *       resumes when it becomes writable again, so memory stays bounded by the write-buffer water marks.</li>
 *   <li><b>Half-close:</b> when one side's input ends ({@link ChannelInputShutdownEvent}), the other side's output is
 *       shut down with {@link Tunnels#shutdownOutput} (which closes it on transports without half-close); when both
 *       inputs have ended, each side closes once its queued writes are out (at the latest after
 *       {@value #CLOSE_LINGER_SECONDS} s, for a peer that stopped reading).</li>
 *   <li><b>Close:</b> when either side closes, the other is closed after its pending writes are flushed.</li>
 *   <li><b>No copies:</b> buffers are passed on as they are; ownership moves with the write.</li>
 * </ul>
 * Both channels should have {@code ALLOW_HALF_CLOSURE} (or the transport's equivalent) to keep half-closed streams
 * open; without it a FIN simply closes that side, which closes the relay.
 */
public final class Relay {

    private static final Logger log = LoggerFactory.getLogger(Relay.class);

    /** How long both half-closed sides may take to drain their queued writes before they are closed anyway. */
    static final long CLOSE_LINGER_SECONDS = 30;

    /** Bytes moved by a finished relay. */
    public record Result(long aToB, long bToA) {
    }

    private final Channel a;
    private final Channel b;
    private final Promise<Result> done;
    private final AtomicLong aToB = new AtomicLong();
    private final AtomicLong bToA = new AtomicLong();
    private final AtomicInteger inputsEnded = new AtomicInteger();

    private Relay(Channel a, Channel b) {
        this.a = a;
        this.b = b;
        this.done = a.eventLoop().newPromise();
    }

    /**
     * Starts relaying between {@code a} and {@code b} (adds a handler at the end of each pipeline and turns
     * {@code autoRead} on). The future completes when both channels are closed.
     */
    public static io.netty.util.concurrent.Future<Result> join(Channel a, Channel b) {
        Relay r = new Relay(a, b);
        r.start();
        return r.done;
    }

    private void start() {
        a.closeFuture().addListener(x -> b.closeFuture().addListener(
                y -> done.trySuccess(new Result(aToB.get(), bToA.get()))));
        install(a, b, aToB);
        install(b, a, bToA);
    }

    private void install(Channel from, Channel to, AtomicLong counter) {
        Runnable add = () -> {
            from.pipeline().addLast("tw-relay", new Side(to, counter));
            from.config().setAutoRead(to.isWritable());
            if (to.isWritable()) {
                from.read();
            }
            if (!from.isActive()) {
                onClosed(from, to);
            }
        };
        if (from.eventLoop().inEventLoop()) {
            add.run();
        } else {
            from.eventLoop().execute(add);
        }
    }

    private static void onClosed(Channel self, Channel other) {
        if (other.isActive()) {
            other.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            other.close();
        }
    }

    /** The relay handler on one side: reads here, writes to {@code to}. */
    private final class Side extends ChannelInboundHandlerAdapter {
        private final Channel to;
        private final AtomicLong counter;

        Side(Channel to, AtomicLong counter) {
            this.to = to;
            this.counter = counter;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!to.isActive()) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof ByteBuf buf) {
                counter.addAndGet(buf.readableBytes());
            }
            to.write(msg, to.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            to.flush();
            if (!to.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // Our channel drained: let the other side read again.
            if (ctx.channel().isWritable()) {
                Channel other = to;
                other.eventLoop().execute(() -> {
                    if (!other.config().isAutoRead()) {
                        other.config().setAutoRead(true);
                        other.read();
                    }
                });
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                to.flush();
                Tunnels.shutdownOutput(to);
                if (inputsEnded.incrementAndGet() == 2) {
                    // Both directions ended. Each side closes itself once its output is shut down after the data
                    // queued before the FIN (HalfCloseHandler) or, without half-close, when shutdownOutput closes
                    // it after the flush. Closing here at once would drop what a slow reader has not taken yet;
                    // only a side that is still open after the linger time is closed.
                    Channel self = ctx.channel();
                    var timer = self.eventLoop().schedule(() -> {
                        self.close();
                        to.close();
                    }, CLOSE_LINGER_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
                    self.closeFuture().addListener(x -> to.closeFuture().addListener(y -> timer.cancel(false)));
                }
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            onClosed(ctx.channel(), to);
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("relay {} -> {} failed", ctx.channel(), to, cause);
            ctx.close();
        }
    }
}
