package dev.tunnelwire.transport.pht;

import com.sun.net.httpserver.HttpServer;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.TunnelRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PHT client reads pull lines like gost's client (a 64 KiB bufio.Scanner): a line of up to 64 KiB is decoded, a
 * longer one ends the tunnel instead of growing a buffer without bound.
 */
class PhtClientLineLimitTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(1);
    private HttpServer server;

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.stop(0);
        }
        runtime.close();
    }

    /** A fake PHT server whose first pull carries one base64 line of {@code rawBytes} bytes. */
    private InetSocketAddress fakeServer(int rawBytes) throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/authorize", ex -> {
            byte[] b = "token=abcdefghij0123456789".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        boolean[] first = {true};
        server.createContext("/pull", ex -> {
            ex.sendResponseHeaders(200, 0); // chunked
            OutputStream out = ex.getResponseBody();
            if (first[0]) {
                first[0] = false;
                byte[] raw = new byte[rawBytes];
                Arrays.fill(raw, (byte) 'x');
                out.write((Base64.getEncoder().encodeToString(raw) + "\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            out.write('\n'); // heartbeat, then end of response
            ex.close();
        });
        server.createContext("/push", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.start();
        return server.getAddress();
    }

    private Channel open(InetSocketAddress addr, AtomicLong received) throws Exception {
        return new PhtTransportProvider().newDialer(runtime, DialerConfig.of(addr), PhtOptions.defaults())
                .open((ch, info) -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        received.addAndGet(((ByteBuf) msg).readableBytes());
                        ((ByteBuf) msg).release();
                    }
                })).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aLineOfJustUnder64KiBIsDecoded() throws Exception {
        AtomicLong received = new AtomicLong();
        Channel t = open(fakeServer(PhtOptions.MAX_CHUNK_LIMIT), received);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (received.get() < PhtOptions.MAX_CHUNK_LIMIT && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(PhtOptions.MAX_CHUNK_LIMIT, received.get());
        assertTrue(t.isOpen());
        t.close().sync();
    }

    @Test
    void aLineOverTheLimitEndsTheTunnel() throws Exception {
        AtomicLong received = new AtomicLong();
        Channel t = open(fakeServer(60_000), received); // 80 000 base64 characters on one line
        assertTrue(t.closeFuture().await(5, TimeUnit.SECONDS), "an over-long line must end the tunnel");
        assertEquals(0, received.get(), "nothing of the over-long line is delivered");
    }
}
