package dev.tunnelwire.internal.h2;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.transport.grpc.GrpcOptions;
import dev.tunnelwire.transport.grpc.GrpcTransportProvider;
import dev.tunnelwire.transport.h2tunnel.H2TunnelOptions;
import dev.tunnelwire.transport.h2tunnel.H2TunnelTransportProvider;
import dev.tunnelwire.transport.http.HttpOptions;
import dev.tunnelwire.transport.http.HttpTransportProvider;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue #16: on one pooled HTTP/2 connection, a small "control" tunnel must keep working after a bulk upload tunnel
 * beside it is ended by the server while the client still has DATA in flight (iperf3 through a tunnel: its server
 * closes the data connection at the end of a test while the client's last window is on the wire; {@code -P 8} does
 * that for eight streams at once). Those late DATA frames arrive on a stream the server has already reset and
 * forgotten; they must be ignored (RFC 9113 §5.1, "closed") and count towards the connection window, never cost the
 * connection.
 *
 * <p>Each case runs against the server listeners that share {@link H2Codecs#server}: gRPC gun, GOST h2c and V2Ray
 * HTTP h2c, each with our own pooled client (whose DATA frames in flight are what any client's would be).
 */
class H2ServerStreamEndInFlightTest {

    private static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);
    /** Small writes, so that one window in flight is many DATA frames (as with the peers' clients). */
    private static final int CHUNK = 1024;
    /** The server ends a bulk tunnel after this many bytes, while the client is still sending. */
    private static final int END_AFTER = 256 * 1024;
    private static final long DEADLINE_SECONDS = 10;

    enum Server {
        GRPC_GUN(rt -> new GrpcTransportProvider().newListener(rt, ListenerConfig.of(ANY),
                GrpcOptions.builder().serviceName("svc").build()),
                (rt, addr) -> new GrpcTransportProvider().newDialer(rt, DialerConfig.of(addr),
                        GrpcOptions.builder().serviceName("svc").build())),
        H2C_TUNNEL(rt -> new H2TunnelTransportProvider().newListener(rt, ListenerConfig.of(ANY),
                H2TunnelOptions.defaults()),
                (rt, addr) -> new H2TunnelTransportProvider().newDialer(rt, DialerConfig.of(addr),
                        H2TunnelOptions.defaults())),
        V2RAYHTTP_H2C(rt -> new HttpTransportProvider().newListener(rt, ListenerConfig.of(ANY),
                HttpOptions.defaults()),
                (rt, addr) -> new HttpTransportProvider().newDialer(rt, DialerConfig.of(addr),
                        HttpOptions.builder().h2cPriorKnowledge(true).build()));

        final Function<TunnelRuntime, TunnelListener> listener;
        final BiFunction<TunnelRuntime, InetSocketAddress, TunnelDialer> dialer;

        Server(Function<TunnelRuntime, TunnelListener> listener,
               BiFunction<TunnelRuntime, InetSocketAddress, TunnelDialer> dialer) {
            this.listener = listener;
            this.dialer = dialer;
        }
    }

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

    /** Three rounds, as three iperf3 runs in a row: a 4 MiB upload ended by the server, then a ping-pong. */
    @ParameterizedTest
    @EnumSource(Server.class)
    void controlStreamSurvivesBulkStreamsEndedWithDataInFlight(Server server) throws Exception {
        Channel control = start(server);
        for (int round = 0; round < 3; round++) {
            Channel bulk = openBulk('B');
            assertSame(control.parent(), bulk.parent(), "both tunnels are streams of one pooled connection");
            upload(bulk, 4 * 1024 * 1024);
            assertTrue(bulk.closeFuture().await(DEADLINE_SECONDS, TimeUnit.SECONDS), "the server ends the bulk tunnel");
            pingPong(control, "round " + round);
        }
    }

    /** {@code iperf3 -P 8}: eight bulk streams ended by the server at about the same time. */
    @ParameterizedTest
    @EnumSource(Server.class)
    void controlStreamSurvivesEightBulkStreamsEndedWithDataInFlight(Server server) throws Exception {
        Channel control = start(server);
        for (int round = 0; round < 2; round++) {
            List<Channel> bulks = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                bulks.add(openBulk('B'));
            }
            for (Channel bulk : bulks) {
                upload(bulk, 2 * 1024 * 1024);
            }
            for (Channel bulk : bulks) {
                assertTrue(bulk.closeFuture().await(DEADLINE_SECONDS, TimeUnit.SECONDS),
                        "the server ends every bulk tunnel");
            }
            pingPong(control, "round " + round);
        }
    }

    /**
     * A bulk tunnel whose server side stopped reading (its destination is slow) is closed with a full stream window
     * unread; five rounds hold more than the 16 MiB connection window in total, so any of it not given back to the
     * connection window would stall the control tunnel.
     */
    @ParameterizedTest
    @EnumSource(Server.class)
    void pausedReaderClosedWithUnreadDataGivesTheConnectionWindowBack(Server server) throws Exception {
        Channel control = start(server);
        for (int round = 0; round < 5; round++) {
            Channel bulk = openBulk('P');
            upload(bulk, 6 * 1024 * 1024);
            assertTrue(bulk.closeFuture().await(DEADLINE_SECONDS, TimeUnit.SECONDS), "the server ends the bulk tunnel");
            pingPong(control, "round " + round);
        }
    }

    private Channel start(Server server) throws Exception {
        listener = server.listener.apply(runtime);
        listener.bind((ch, info) -> ch.pipeline().addLast(new ServerSide())).sync();
        dialer = server.dialer.apply(runtime, listener.localAddress());
        Channel control = dialer.open(ascii("C"), (ch, info) -> ch.pipeline().addLast(new Collector()))
                .get(DEADLINE_SECONDS, TimeUnit.SECONDS);
        pingPong(control, "before");
        return control;
    }

    private Channel openBulk(char role) throws Exception {
        return dialer.open(ascii(String.valueOf(role)), (ch, info) -> ch.pipeline().addLast(new Discard()))
                .get(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    /** Writes {@code bytes} in {@value #CHUNK}-byte buffers and one flush, ignoring writability (as a fast sender). */
    private static void upload(Channel bulk, int bytes) {
        bulk.eventLoop().execute(() -> {
            for (int sent = 0; sent < bytes && bulk.isActive(); sent += CHUNK) {
                bulk.write(Unpooled.wrappedBuffer(new byte[CHUNK]), bulk.voidPromise());
            }
            bulk.flush();
        });
    }

    private static void pingPong(Channel control, String text) throws InterruptedException {
        Collector c = control.pipeline().get(Collector.class);
        assertNotNull(c, "control tunnel open");
        String line = "ping " + text + "\n";
        c.expect(line);
        control.writeAndFlush(ascii(line));
        assertTrue(c.await(DEADLINE_SECONDS), "control tunnel answered within " + DEADLINE_SECONDS + " s after "
                + text + " (control " + (control.isActive() ? "open" : "closed") + ", connection "
                + (control.parent() != null && control.parent().isActive() ? "open" : "closed") + ")");
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    /**
     * The server side of every tunnel, by its first byte: {@code C} echoes; {@code B} discards and ends the tunnel
     * after {@value #END_AFTER} bytes; {@code P} stops reading after its first bytes and ends the tunnel 300 ms later.
     */
    private static final class ServerSide extends ChannelInboundHandlerAdapter {
        private char role;
        private long received;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            if (role == 0 && buf.isReadable()) {
                role = (char) buf.getByte(buf.readerIndex());
                if (role == 'C') {
                    buf.skipBytes(1);
                } else if (role == 'P') {
                    ctx.channel().config().setAutoRead(false);
                    ctx.executor().schedule(() -> ctx.close(), 300, TimeUnit.MILLISECONDS);
                }
            }
            if (role == 'C') {
                ctx.writeAndFlush(buf);
                return;
            }
            received += buf.readableBytes();
            buf.release();
            if (role == 'B' && received >= END_AFTER && ctx.channel().isActive()) {
                ctx.close();
            }
        }
    }

    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    /** Collects what the control tunnel receives; {@link #await} waits for the expected text. */
    private static final class Collector extends ChannelInboundHandlerAdapter {
        private final StringBuilder got = new StringBuilder();
        private String expected;

        synchronized void expect(String text) {
            got.setLength(0);
            expected = text;
        }

        synchronized boolean await(long seconds) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (!got.toString().equals(expected)) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }

        @Override
        public synchronized void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            got.append(buf.toString(StandardCharsets.US_ASCII));
            buf.release();
            notifyAll();
        }
    }
}
