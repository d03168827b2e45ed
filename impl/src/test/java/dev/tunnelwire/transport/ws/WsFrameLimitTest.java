package dev.tunnelwire.transport.ws;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.PlatformDependent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The default frame payload limit ({@link WsOptions#DEFAULT_MAX_FRAME_PAYLOAD}) on both ends: a frame header that
 * declares 1 GiB, followed by a stream of payload, is refused at the header with close 1009 and the connection closed,
 * before the payload is buffered (the allocator's memory does not follow the 64 MiB the peer streams). And what our
 * own ends send stays under that limit: a write larger than it leaves as several frames.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WsFrameLimitTest {

    private static final WsTransportProvider PROVIDER = new WsTransportProvider();
    private static final long DECLARED = 1L << 30;
    private static final int STREAMED = 64 << 20;
    private static final long MEMORY_BOUND = 8 << 20;

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private TunnelListener listener;
    private TunnelDialer dialer;

    @AfterEach
    void tearDown() {
        if (dialer != null) {
            dialer.close();
        }
        if (listener != null) {
            listener.close();
        }
        runtime.close();
    }

    /** Releases everything the tunnel delivers. */
    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * Bytes Netty holds: the default allocator's use plus Netty's own direct memory counter (they may count the same
     * memory twice: an upper bound).
     */
    private static long nettyMemory() {
        long used = 0;
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider m) {
            used += m.metric().usedDirectMemory() + m.metric().usedHeapMemory();
        }
        return used + Math.max(0, PlatformDependent.usedDirectMemory());
    }

    /** Samples {@link #nettyMemory()} until stopped; {@link #peakGrowth()} is the largest rise over the start. */
    private static final class MemoryWatch extends Thread {
        private final long start = nettyMemory();
        private final AtomicLong peak = new AtomicLong(start);
        private final AtomicBoolean stop = new AtomicBoolean();

        MemoryWatch() {
            setDaemon(true);
            start();
        }

        @Override
        public void run() {
            while (!stop.get()) {
                peak.accumulateAndGet(nettyMemory(), Math::max);
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        long peakGrowth() throws InterruptedException {
            stop.set(true);
            join();
            peak.accumulateAndGet(nettyMemory(), Math::max);
            return peak.get() - start;
        }
    }

    /** Writes {@code total} bytes in 64 KiB chunks until done or the connection breaks; the future has the count. */
    private static CompletableFuture<Long> stream(OutputStream out, long total) {
        return CompletableFuture.supplyAsync(() -> {
            byte[] chunk = new byte[65536];
            long sent = 0;
            try {
                while (sent < total) {
                    int n = (int) Math.min(chunk.length, total - sent);
                    out.write(chunk, 0, n);
                    sent += n;
                }
            } catch (IOException e) {
                // the other side closed: expected
            }
            return sent;
        });
    }

    /** A frame header: FIN + binary, 64-bit length, masked with {@code key} when not null. */
    private static byte[] header(long length, byte[] key) {
        ByteBuf h = Unpooled.buffer();
        h.writeByte(0x82).writeByte((key != null ? 0x80 : 0) | 127).writeLong(length);
        if (key != null) {
            h.writeBytes(key);
        }
        byte[] out = new byte[h.readableBytes()];
        h.readBytes(out);
        h.release();
        return out;
    }

    /** Reads one frame; returns {opcode, payload} with the payload unmasked. */
    private static Object[] readFrame(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int b0 = d.readUnsignedByte();
        int b1 = d.readUnsignedByte();
        long len = b1 & 0x7f;
        if (len == 126) {
            len = d.readUnsignedShort();
        } else if (len == 127) {
            len = d.readLong();
        }
        byte[] key = null;
        if ((b1 & 0x80) != 0) {
            key = new byte[4];
            d.readFully(key);
        }
        byte[] payload = new byte[(int) len];
        d.readFully(payload);
        for (int i = 0; key != null && i < payload.length; i++) {
            payload[i] ^= key[i & 3];
        }
        return new Object[] {b0 & 0x0f, payload};
    }

    /** The close code the peer sent, failing with the memory growth so far when no frame came within the timeout. */
    private static int awaitCloseCode(InputStream in, MemoryWatch watch, CompletableFuture<Long> sent)
            throws Exception {
        try {
            return closeCode(readFrame(in));
        } catch (java.net.SocketTimeoutException e) {
            long growth = watch.peakGrowth();
            throw new AssertionError("no close frame within 10 s; Netty memory grew by " + (growth >> 10)
                    + " KiB while " + (sent.getNow(-1L) >> 10) + " KiB were streamed (" + sent.isDone() + ")");
        }
    }

    private static int closeCode(Object[] frame) {
        assertEquals(8, frame[0], "a close frame");
        byte[] p = (byte[]) frame[1];
        assertTrue(p.length >= 2, "close frame with a status code");
        return (p[0] & 0xff) << 8 | p[1] & 0xff;
    }

    /** Reads until the end of the stream (or a reset): the connection was closed. */
    private static void assertClosed(InputStream in) {
        try {
            byte[] buf = new byte[65536];
            while (in.read(buf) >= 0) {
                // drain
            }
        } catch (IOException e) {
            // a reset is a close too
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed in the HTTP head: " + head);
            }
            head.write(c);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void listenerRefusesAFrameDeclaring1GiBAtItsHeader() throws Exception {
        CompletableFuture<ByteBufAllocator> alloc = new CompletableFuture<>();
        listener = PROVIDER.newListener(runtime, ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)),
                WsOptions.defaults());
        InetSocketAddress addr = listener.bind((ch, info) -> {
            alloc.complete(ch.alloc());
            ch.pipeline().addLast(new Discard());
        }).get(10, TimeUnit.SECONDS);
        try (Socket s = new Socket(addr.getAddress(), addr.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(readHead(in).startsWith("HTTP/1.1 101 "));
            assertSame(ByteBufAllocator.DEFAULT, alloc.get(10, TimeUnit.SECONDS), "the allocator watched");

            MemoryWatch watch = new MemoryWatch();
            long t0 = System.nanoTime();
            out.write(header(DECLARED, new byte[] {1, 2, 3, 4}));
            CompletableFuture<Long> sent = stream(out, STREAMED);
            int code = awaitCloseCode(in, watch, sent);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertClosed(in);
            long growth = watch.peakGrowth();
            long streamed = sent.get(30, TimeUnit.SECONDS);
            assertEquals(1009, code, "close code");
            assertTrue(ms < 5_000, "close after " + ms + " ms");
            assertTrue(streamed < STREAMED, "the server closed before the client had streamed 64 MiB");
            assertTrue(growth < MEMORY_BOUND, "Netty memory grew by " + (growth >> 10) + " KiB while "
                    + (streamed >> 10) + " KiB were streamed");
        }
    }

    @Test
    void dialerRefusesAFrameDeclaring1GiBAtItsHeader() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CompletableFuture<Object[]> seen = CompletableFuture.supplyAsync(() -> {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(10_000);
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    String head = readHead(in);
                    String key = head.lines().filter(l -> l.toLowerCase().startsWith("sec-websocket-key:"))
                            .findFirst().orElseThrow().substring(18).trim();
                    String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                            .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                    .getBytes(StandardCharsets.ISO_8859_1)));
                    out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    MemoryWatch watch = new MemoryWatch();
                    long t0 = System.nanoTime();
                    out.write(header(DECLARED, null));
                    CompletableFuture<Long> sent = stream(out, STREAMED);
                    int code = awaitCloseCode(in, watch, sent);
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    assertClosed(in);
                    long growth = watch.peakGrowth();
                    return new Object[] {code, ms, sent.get(30, TimeUnit.SECONDS), growth};
                } catch (RuntimeException | Error e) {
                    throw e;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            dialer = PROVIDER.newDialer(runtime, DialerConfig.of(
                    new InetSocketAddress("127.0.0.1", server.getLocalPort())), WsOptions.defaults());
            Channel tunnel = dialer.open((ch, info) -> ch.pipeline().addLast(new Discard()))
                    .get(10, TimeUnit.SECONDS);
            Object[] r = seen.get(60, TimeUnit.SECONDS);
            assertEquals(1009, r[0], "close code");
            assertTrue((long) r[1] < 5_000, "close after " + r[1] + " ms");
            assertTrue((long) r[2] < STREAMED, "the client closed before the server had streamed 64 MiB");
            assertTrue((long) r[3] < MEMORY_BOUND, "Netty memory grew by " + ((long) r[3] >> 10) + " KiB while "
                    + ((long) r[2] >> 10) + " KiB were streamed");
            assertTrue(tunnel.closeFuture().await(5, TimeUnit.SECONDS), "the tunnel closed");
        }
    }

    @Test
    void writesLargerThanTheLimitLeaveAsSeveralFrames() throws Exception {
        int limit = WsOptions.DEFAULT_MAX_FRAME_PAYLOAD;
        int size = 2 * limit + 1000;
        // a raw client counts the frames of one large write on our listener's tunnel
        CompletableFuture<Channel> serverTunnel = new CompletableFuture<>();
        listener = PROVIDER.newListener(runtime, ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)),
                WsOptions.defaults());
        InetSocketAddress addr = listener.bind((ch, info) -> {
            ch.pipeline().addLast(new Discard());
            serverTunnel.complete(ch);
        }).get(10, TimeUnit.SECONDS);
        try (Socket s = new Socket(addr.getAddress(), addr.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            assertTrue(readHead(in).startsWith("HTTP/1.1 101 "));
            Channel ch = serverTunnel.get(10, TimeUnit.SECONDS);
            ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[size]));
            long got = 0;
            int frames = 0;
            while (got < size) {
                Object[] f = readFrame(in);
                assertEquals(2, f[0], "each part is a complete binary frame");
                int len = ((byte[]) f[1]).length;
                assertTrue(len <= limit, "frame of " + len + " bytes");
                got += len;
                frames++;
            }
            assertEquals(size, got);
            assertEquals(3, frames);
        }
    }
}
