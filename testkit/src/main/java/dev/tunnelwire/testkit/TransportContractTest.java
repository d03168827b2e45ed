package dev.tunnelwire.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The contract every transport passes, written against plain Netty channels so that any module (including impl's own
 * tests) can subclass it: a subclass supplies a {@link TunnelHarness} that starts the transport's server and opens
 * client tunnels, and inherits these tests:
 * <ul>
 *   <li>echo ping-pong of small messages;</li>
 *   <li>16 MiB of random bytes each way, verified by SHA-256;</li>
 *   <li>64 concurrent tunnels;</li>
 *   <li>half-close (or, where the transport has none, a clean close of both ends);</li>
 *   <li>abrupt close of either side: both ends see the close within 2 s;</li>
 *   <li>a slow reader: the sender's in-flight bytes stay bounded while the reader does not read;</li>
 *   <li>a rejected request: the server never accepts it and the client fails or is closed within 2 s.</li>
 * </ul>
 * A tunnel here is a {@link Channel} that carries plain {@link ByteBuf}s in both directions.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
public abstract class TransportContractTest {

    /** Two seconds: the longest either end may take to notice a close. */
    protected static final long CLOSE_MILLIS = 2_000;
    private static final int CHUNK = 32 * 1024;

    /** The transport under test, seen as plain channels. */
    public interface TunnelHarness extends AutoCloseable {
        /**
         * Starts the server side. {@code acceptor} runs on the tunnel's event loop for every accepted tunnel, after the
         * transport handshake and before any tunnel data is delivered; it installs the test's handlers.
         */
        void startServer(Consumer<Channel> acceptor) throws Exception;

        /**
         * Opens one client tunnel. {@code initializer} runs on the tunnel's event loop before any data is delivered.
         * The future completes with the tunnel once the transport handshake is done (or, for lazy transports, once
         * the tunnel is usable).
         */
        CompletableFuture<Channel> openClient(Consumer<Channel> initializer);

        /** Opens a client tunnel whose request the server must reject (wrong path, missing PROXY header, ...). */
        CompletableFuture<Channel> openRejected(Consumer<Channel> initializer);

        /** Half-closes the tunnel's outbound direction (or closes it, where the transport has no half-close). */
        void shutdownOutput(Channel tunnel);

        /** Whether the transport carries a half-close to the other side while keeping the reverse direction open. */
        boolean supportsHalfClose();

        /** Upper bound on bytes in flight towards a reader that does not read (socket buffers, windows, queues). */
        default long slowReaderBoundBytes() {
            return 24L * 1024 * 1024;
        }

        @Override
        void close() throws Exception;
    }

    protected abstract TunnelHarness createHarness() throws Exception;

    private TunnelHarness harness;

    @BeforeEach
    final void setUpHarness() throws Exception {
        harness = createHarness();
    }

    @AfterEach
    final void tearDownHarness() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    protected final TunnelHarness harness() {
        return harness;
    }

    @Test
    void echoPingPong() throws Exception {
        harness.startServer(ch -> ch.pipeline().addLast(new ContractEcho(harness)));
        Collector c = new Collector();
        Channel t = open(c);
        try {
            long expected = 0;
            for (int i = 0; i < 20; i++) {
                byte[] msg = ("ping-" + i).getBytes(StandardCharsets.US_ASCII);
                expected += msg.length;
                c.expect(expected);
                t.writeAndFlush(Unpooled.wrappedBuffer(msg)).sync();
                c.awaitTarget(10_000);
            }
            assertEquals(expected, c.count.get());
        } finally {
            t.close().sync();
        }
    }

    @Test
    void sixteenMebibytesEachWayVerifiedBySha256() throws Exception {
        harness.startServer(ch -> ch.pipeline().addLast(new ContractEcho(harness)));
        byte[] data = Digests.randomBytes(16 * 1024 * 1024, 16);
        Collector c = new Collector();
        c.expect(data.length);
        Channel t = open(c);
        try {
            new Sender(t, data).start().get(60, TimeUnit.SECONDS);
            c.awaitTarget(60_000);
            assertEquals(data.length, c.count.get());
            assertArrayEquals(Digests.sha256(data), c.md.digest(), "SHA-256 of the echoed 16 MiB");
        } finally {
            t.close().sync();
        }
    }

    @Test
    void sixtyFourConcurrentTunnels() throws Exception {
        harness.startServer(ch -> ch.pipeline().addLast(new ContractEcho(harness)));
        int n = 64;
        List<Collector> collectors = new ArrayList<>();
        List<CompletableFuture<Channel>> opens = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Collector c = new Collector();
            collectors.add(c);
            opens.add(harness.openClient(ch -> ch.pipeline().addLast(c)));
        }
        List<Channel> tunnels = new ArrayList<>();
        try {
            for (CompletableFuture<Channel> f : opens) {
                tunnels.add(f.get(30, TimeUnit.SECONDS));
            }
            List<byte[]> payloads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] data = Digests.randomBytes(64 * 1024 + i, i);
                payloads.add(data);
                collectors.get(i).expect(data.length);
                new Sender(tunnels.get(i), data).start();
            }
            for (int i = 0; i < n; i++) {
                Collector c = collectors.get(i);
                c.awaitTarget(30_000);
                assertArrayEquals(Digests.sha256(payloads.get(i)), c.md.digest(), "tunnel " + i);
            }
        } finally {
            for (Channel t : tunnels) {
                t.close();
            }
        }
    }

    @Test
    void halfClose() throws Exception {
        CompletableFuture<Channel> serverSide = new CompletableFuture<>();
        harness.startServer(ch -> {
            ch.pipeline().addLast(new ContractEcho(harness));
            serverSide.complete(ch);
        });
        byte[] data = Digests.randomBytes(1024 * 1024, 7);
        Collector c = new Collector();
        c.expect(data.length);
        Channel t = open(c);
        try {
            new Sender(t, data).start().get(30, TimeUnit.SECONDS);
            if (harness.supportsHalfClose()) {
                harness.shutdownOutput(t);
                // The echo server answers our half-close with its own after echoing everything.
                c.awaitTarget(30_000);
                assertArrayEquals(Digests.sha256(data), c.md.digest());
                c.inputShutdown.get(10, TimeUnit.SECONDS);
            } else {
                c.awaitTarget(30_000);
                harness.shutdownOutput(t);
                Channel s = serverSide.get(5, TimeUnit.SECONDS);
                assertTrue(s.closeFuture().await(CLOSE_MILLIS), "server end closed after the client's shutdown");
                assertTrue(t.closeFuture().await(CLOSE_MILLIS), "client end closed");
            }
        } finally {
            t.close().sync();
        }
    }

    @Test
    void abruptCloseByClientIsSeenByServer() throws Exception {
        CompletableFuture<Channel> serverSide = new CompletableFuture<>();
        harness.startServer(ch -> {
            ch.pipeline().addLast(new ContractEcho(harness));
            serverSide.complete(ch);
        });
        Collector c = new Collector();
        Channel t = open(c);
        c.expect(4);
        t.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1, 2, 3, 4}));
        c.awaitTarget(10_000);
        Channel s = serverSide.get(5, TimeUnit.SECONDS);
        t.close();
        assertTrue(s.closeFuture().await(CLOSE_MILLIS), "server end must close within 2 s of the client's close");
        assertTrue(t.closeFuture().await(CLOSE_MILLIS));
    }

    @Test
    void abruptCloseByServerIsSeenByClient() throws Exception {
        CompletableFuture<Channel> serverSide = new CompletableFuture<>();
        harness.startServer(ch -> {
            ch.pipeline().addLast(new ContractEcho(harness));
            serverSide.complete(ch);
        });
        Collector c = new Collector();
        Channel t = open(c);
        c.expect(4);
        t.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1, 2, 3, 4}));
        c.awaitTarget(10_000);
        Channel s = serverSide.get(5, TimeUnit.SECONDS);
        s.close();
        assertTrue(c.ended.await(CLOSE_MILLIS), "client end must see the close (end of input or close) within 2 s");
        assertTrue(s.closeFuture().await(CLOSE_MILLIS));
    }

    @Test
    void slowReaderKeepsSenderMemoryBounded() throws Exception {
        int total = 48 * 1024 * 1024;
        byte[] data = Digests.randomBytes(total, 99);
        CompletableFuture<Sender> senderRef = new CompletableFuture<>();
        harness.startServer(ch -> {
            Sender s = new Sender(ch, data);
            senderRef.complete(s);
            ch.pipeline().addLast(s);
        });
        Collector c = new Collector();
        c.expect(total);
        Channel t = open(ch -> {
            ch.config().setAutoRead(false);
            ch.pipeline().addLast(c);
        });
        try {
            // Knock, so that lazy transports establish and the server accepts.
            t.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {42})).sync();
            Sender sender = senderRef.get(10, TimeUnit.SECONDS);
            CompletableFuture<Void> done = sender.start();
            Thread.sleep(1500);
            long inFlight = sender.written.get();
            assertFalse(done.isDone() && inFlight >= total, "sender wrote everything to a reader that never read");
            assertTrue(inFlight <= harness.slowReaderBoundBytes(),
                    "sender buffered " + inFlight + " bytes for a reader that never read (bound "
                            + harness.slowReaderBoundBytes() + ")");
            t.eventLoop().execute(() -> {
                t.config().setAutoRead(true);
                t.read();
            });
            c.awaitTarget(90_000);
            assertArrayEquals(Digests.sha256(data), c.md.digest());
        } finally {
            t.close().sync();
        }
    }

    @Test
    void rejectedRequestIsNeverAccepted() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        harness.startServer(ch -> {
            accepted.incrementAndGet();
            ch.pipeline().addLast(new ContractEcho(harness));
        });
        Collector c = new Collector();
        CompletableFuture<Channel> f = harness.openRejected(ch -> ch.pipeline().addLast(c));
        try {
            Channel t = f.get(10, TimeUnit.SECONDS);
            // Transports without a handshake learn of the rejection when the server closes the connection.
            t.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1}));
            assertTrue(c.ended.await(CLOSE_MILLIS), "a rejected tunnel must be closed (or its input ended) within 2 s");
            assertEquals(0, c.count.get(), "a rejected tunnel must not deliver data");
        } catch (ExecutionException expected) {
            // The dial failed: the expected outcome for transports with a handshake.
        }
        Thread.sleep(100);
        assertEquals(0, accepted.get(), "the server accepted a request it should have rejected");
    }

    private Channel open(ChannelInboundHandlerAdapter handler) throws Exception {
        return open(ch -> ch.pipeline().addLast(handler));
    }

    private Channel open(Consumer<Channel> init) throws Exception {
        try {
            return harness.openClient(init).get(30, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return fail("tunnel did not open within 30 s");
        }
    }

    /** Echo for tunnels: like {@link LoopbackServers.EchoHandler} but half-closes through the harness. */
    private static final class ContractEcho extends ChannelInboundHandlerAdapter {
        private final TunnelHarness harness;

        ContractEcho(TunnelHarness harness) {
            this.harness = harness;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
            if (!ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && !ctx.channel().config().isAutoRead()) {
                ctx.channel().config().setAutoRead(true);
                ctx.read();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> harness.shutdownOutput(ctx.channel()));
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Consumes and hashes what a tunnel delivers; completes a target once enough bytes arrived. */
    public static final class Collector extends ChannelInboundHandlerAdapter {
        final MessageDigest md = Digests.sha256();
        final AtomicLong count = new AtomicLong();
        final CompletableFuture<Void> inputShutdown = new CompletableFuture<>();
        /** Set when the tunnel's input ended: a half-close from the other side or a close. */
        final java.util.concurrent.CountDownLatch endedLatch = new java.util.concurrent.CountDownLatch(1);
        final Ended ended = new Ended(endedLatch);
        private volatile long target = Long.MAX_VALUE;
        private volatile CompletableFuture<Void> reached = new CompletableFuture<>();

        synchronized void expect(long total) {
            target = total;
            reached = new CompletableFuture<>();
            if (count.get() >= total) {
                reached.complete(null);
            }
        }

        void awaitTarget(long millis) throws Exception {
            try {
                reached.get(millis, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                fail("received " + count.get() + " of " + target + " bytes within " + millis + " ms");
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf b)) {
                io.netty.util.ReferenceCountUtil.release(msg);
                throw new IllegalStateException("a tunnel delivered a non-ByteBuf message: " + msg.getClass());
            }
            try {
                synchronized (this) {
                    Digests.update(md, b);
                    if (count.addAndGet(b.readableBytes()) >= target) {
                        reached.complete(null);
                    }
                }
            } finally {
                b.release();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                inputShutdown.complete(null);
                endedLatch.countDown();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            endedLatch.countDown();
            inputShutdown.completeExceptionally(
                    new IllegalStateException("tunnel closed without a half-close (input shutdown) event"));
            ctx.fireChannelInactive();
        }
    }

    /** Waits for the end of a tunnel's input. */
    public record Ended(java.util.concurrent.CountDownLatch latch) {
        public boolean await(long millis) throws InterruptedException {
            return latch.await(millis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Writes a byte array into a channel in 32 KiB slices, only while the channel is writable, resuming on
     * writability changes. No copies: each slice wraps the array.
     */
    public static final class Sender extends ChannelInboundHandlerAdapter {
        private final Channel channel;
        private final byte[] data;
        private int offset;
        final AtomicLong written = new AtomicLong();
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private volatile boolean started;

        public Sender(Channel channel, byte[] data) {
            this.channel = channel;
            this.data = data;
        }

        public CompletableFuture<Void> start() {
            channel.eventLoop().execute(() -> {
                started = true;
                if (channel.pipeline().context(this) == null) {
                    channel.pipeline().addLast(this);
                }
                pump();
            });
            return done;
        }

        private void pump() {
            if (!started || done.isDone()) {
                return;
            }
            if (!channel.isActive()) {
                done.completeExceptionally(new IllegalStateException("tunnel closed after " + offset + " bytes"));
                return;
            }
            while (offset < data.length && channel.isWritable()) {
                int len = Math.min(CHUNK, data.length - offset);
                ByteBuf slice = Unpooled.wrappedBuffer(data, offset, len);
                offset += len;
                written.addAndGet(len);
                ChannelFuture f = channel.write(slice);
                if (offset == data.length) {
                    f.addListener(x -> {
                        if (x.isSuccess()) {
                            done.complete(null);
                        } else {
                            done.completeExceptionally(x.cause());
                        }
                    });
                }
            }
            channel.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            pump();
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            io.netty.util.ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!done.isDone()) {
                done.completeExceptionally(new IllegalStateException("tunnel closed after " + offset + " bytes"));
            }
            ctx.fireChannelInactive();
        }
    }
}
