package dev.tunnelwire.transport.pht;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.fuzz.Fuzz;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterAll;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Fuzz targets of the PHT server.
 *
 * <ul>
 *   <li>{@code server}: the listener's pipeline ({@link PhtListener#serve}: HTTP codec, aggregator,
 *       {@link PhtServerHandler}) fed one connection's requests (authorize, pull, push with base64 lines, anything
 *       else); the sessions run on a one-thread runtime, which the target waits for. Input: byte 0 the split, then
 *       the bytes. Nothing may reach the end of the pipeline; sessions are closed at the end.</li>
 *   <li>{@code lines}: {@link PhtProtocol#decodeLine} (only {@link IllegalArgumentException} for bad base64; what
 *       it decodes encodes back to the same bytes) and {@link PhtProtocol#isPlausibleToken}.</li>
 * </ul>
 */
class PhtFuzzTest {

    private static final TunnelRuntime RUNTIME = TunnelRuntime.create(1);

    @AfterAll
    static void closeRuntime() {
        RUNTIME.close();
    }

    @FuzzTest(maxDuration = "5m")
    void server(byte[] input) {
        Fuzz.watchingLog(input, () -> {
            try {
                runServer(input);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        Fuzz.noLeaks();
    }

    private static void runServer(byte[] input) throws Exception {
        int split = Fuzz.option(input);
        byte[] data = Fuzz.payload(input);
        PhtListener listener = new PhtListener(RUNTIME, ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)),
                PhtOptions.builder().maxSessions(4).pullIdle(Duration.ofMillis(50)).build());
        List<Channel> tunnels = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel();
        listener.serve(ch, (t, info) -> {
            synchronized (tunnels) {
                tunnels.add(t);
            }
            t.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ReferenceCountUtil.release(msg);
                }
            });
        });
        try {
            Fuzz.feed(ch, data, Fuzz.split(split, data.length), Fuzz.NOTHING);
            settle(ch);
            Fuzz.advance(ch, 30, Fuzz.NOTHING);
        } finally {
            synchronized (tunnels) {
                for (Channel t : tunnels) {
                    t.close();
                }
            }
            settle(ch);
            Fuzz.finish(ch, Fuzz.NOTHING);
            settle(null);
            listener.close();
        }
    }

    /** Lets the session loop run what the requests gave it, then the connection run what the sessions wrote. */
    private static void settle(EmbeddedChannel ch) throws Exception {
        for (int i = 0; i < 3; i++) {
            RUNTIME.group().next().submit(() -> { }).get(10, TimeUnit.SECONDS);
            if (ch != null) {
                ch.runPendingTasks();
            }
        }
    }

    @FuzzTest(maxDuration = "5m")
    void lines(byte[] input) {
        String token = new String(input, StandardCharsets.UTF_8);
        PhtProtocol.isPlausibleToken(token);
        ByteBuf line = Unpooled.wrappedBuffer(input);
        ByteBuf decoded;
        try {
            decoded = PhtProtocol.decodeLine(ByteBufAllocator.DEFAULT, line);
        } catch (IllegalArgumentException e) {
            line.release();
            Fuzz.noLeaks();
            return;
        }
        try {
            ByteBuf again = PhtProtocol.encodeLine(ByteBufAllocator.DEFAULT, decoded);
            try {
                ByteBuf body = again.slice(again.readerIndex(), again.readableBytes() - 1);
                ByteBuf round = PhtProtocol.decodeLine(ByteBufAllocator.DEFAULT, body);
                try {
                    if (!ByteBufUtil.equals(round, decoded)) {
                        throw new AssertionError("decode(encode(x)) != x for line " + Arrays.toString(input));
                    }
                } finally {
                    round.release();
                }
            } finally {
                again.release();
            }
        } finally {
            decoded.release();
            line.release();
        }
        Fuzz.noLeaks();
    }
}
