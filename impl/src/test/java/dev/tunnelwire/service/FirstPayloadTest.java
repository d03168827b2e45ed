package dev.tunnelwire.service;

import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.HandlerContext;
import dev.tunnelwire.proxy.forward.ForwardHandler;
import dev.tunnelwire.proxy.relay.RelayConnector;
import dev.tunnelwire.proxy.relay.RelayConnectorOptions;
import dev.tunnelwire.proxy.socks5.Socks5Handler;
import dev.tunnelwire.proxy.socks5.Socks5HandlerOptions;
import dev.tunnelwire.proxy.vless.VlessConnector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static dev.tunnelwire.proxy.FakeOutbound.drainOutbound;
import static dev.tunnelwire.proxy.FakeOutbound.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a chain hands its dialers as first payload (what WebSocket early data would carry): the last hop's request
 * header followed by the client's first bytes; intermediate hops only their own header.
 */
class FirstPayloadTest {

    static final String ID = "b831381d-6324-4d53-ad4f-8cda48b30811";
    static final Destination TARGET = Destination.of("127.0.0.1", 80);

    /** Records first payloads; every tunnel is an EmbeddedChannel. */
    static final class RecordingDialer implements TunnelDialer {
        final List<String> firstPayloads = new ArrayList<>();
        final List<Boolean> over = new ArrayList<>();
        final List<EmbeddedChannel> tunnels = new ArrayList<>();

        @Override
        public synchronized Future<Channel> open(ByteBuf firstPayload, TunnelInitializer init) {
            return record(false, firstPayload, init);
        }

        @Override
        public synchronized Future<Channel> openOver(Channel carrier, ByteBuf firstPayload, TunnelInitializer init) {
            return record(true, firstPayload, init);
        }

        private Future<Channel> record(boolean isOver, ByteBuf firstPayload, TunnelInitializer init) {
            firstPayloads.add(firstPayload == null ? null : ByteBufUtil.hexDump(firstPayload));
            ReferenceCountUtil.safeRelease(firstPayload);
            over.add(isOver);
            EmbeddedChannel ch = new EmbeddedChannel();
            tunnels.add(ch);
            Promise<Channel> p = ImmediateEventExecutor.INSTANCE.newPromise();
            try {
                init.initTunnel(ch, TunnelInfo.of("fake", null, null));
            } catch (Exception e) {
                return p.setFailure(e);
            }
            return p.setSuccess(ch);
        }

        @Override
        public String transport() {
            return "fake";
        }

        @Override
        public void close() {
            for (EmbeddedChannel t : tunnels) {
                t.finishAndReleaseAll();
            }
            tunnels.clear();
        }
    }

    private TunnelRuntime rt;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void setUp() {
        rt = TunnelRuntime.create(1);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        rt.close();
    }

    /**
     * Runs {@code r} on the runtime's only event loop: the chain's promises complete there, so every EmbeddedChannel
     * of the test is touched by that one thread only.
     */
    private <T> T onLoop(java.util.concurrent.Callable<T> r) throws Exception {
        return rt.group().next().submit(r).get(5, TimeUnit.SECONDS);
    }

    private void await(EmbeddedChannel in, RecordingDialer d, BooleanSupplier cond) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < end) {
            boolean ok = onLoop(() -> {
                in.runPendingTasks();
                in.runScheduledPendingTasks();
                for (EmbeddedChannel t : new ArrayList<>(d.tunnels)) {
                    t.runPendingTasks();
                }
                return cond.getAsBoolean();
            });
            if (ok) {
                return;
            }
            Thread.sleep(5);
        }
        assertTrue(onLoop(cond::getAsBoolean));
    }

    private Chain chain(RecordingDialer d, Connector... connectors) {
        List<Hop> hops = new ArrayList<>();
        for (int i = 0; i < connectors.length; i++) {
            hops.add(new Hop("h" + i, Destination.of("10.0.0." + (i + 1), 1000 + i), d, connectors[i]));
        }
        Chain c = Chain.of(rt, hops);
        closeables.add(c);
        return c;
    }

    @Test
    void socks5WithEarlyReplySendsTheClientsFirstBytesInTheVlessRequest() throws Exception {
        RecordingDialer d = new RecordingDialer();
        HandlerContext hc = new HandlerContext("t", chain(d, new VlessConnector(ID)), Duration.ofSeconds(15),
                Duration.ofSeconds(5));
        EmbeddedChannel in = onLoop(() -> {
            EmbeddedChannel ch = new EmbeddedChannel();
            new Socks5Handler(new Socks5HandlerOptions(null, true)).init(ch, hc);
            ch.writeInbound(Unpooled.wrappedBuffer(hex("05 01 00")));
            ch.writeInbound(Unpooled.wrappedBuffer(hex("05 01 00 01 7f 00 00 01 00 50")));
            ch.runPendingTasks();
            return ch;
        });
        assertEquals("0500" + "05000001000000000000", onLoop(() -> ByteBufUtil.hexDump(drainOutbound(in))),
                "reply before connecting");
        assertTrue(d.firstPayloads.isEmpty(), "waits for the client's first bytes");
        onLoop(() -> in.writeInbound(Unpooled.copiedBuffer("GET /", StandardCharsets.US_ASCII)));
        await(in, d, () -> !d.firstPayloads.isEmpty());
        assertEquals("00b831381d63244d53ad4f8cda48b308110001005001" + "7f000001"
                + ByteBufUtil.hexDump("GET /".getBytes(StandardCharsets.US_ASCII)), d.firstPayloads.get(0));
        onLoop(in::finishAndReleaseAll);
        onLoop(() -> {
            d.close();
            return null;
        });
    }

    @Test
    void forwardWaitsBrieflyForClientBytesThenSendsTheRequestAlone() throws Exception {
        RecordingDialer d = new RecordingDialer();
        HandlerContext hc = new HandlerContext("t", chain(d, new RelayConnector(RelayConnectorOptions.defaults())),
                Duration.ofSeconds(15), Duration.ofMillis(50));
        EmbeddedChannel in = onLoop(() -> {
            EmbeddedChannel ch = new EmbeddedChannel();
            new ForwardHandler(Destination.of("127.0.0.1", 9000)).init(ch, hc);
            return ch;
        });
        await(in, d, () -> !d.firstPayloads.isEmpty());
        assertEquals("0101000a020007017f0000012328", d.firstPayloads.get(0), "request alone after the wait");
        onLoop(in::finishAndReleaseAll);
        onLoop(() -> {
            d.close();
            return null;
        });
    }

    @Test
    void twoHopsCarryThePayloadOnlyInTheLastHopsRequest() throws Exception {
        RecordingDialer d = new RecordingDialer();
        HandlerContext hc = new HandlerContext("t", chain(d, new RelayConnector(RelayConnectorOptions.defaults()),
                new VlessConnector(ID)), Duration.ofSeconds(15), Duration.ofSeconds(5));
        EmbeddedChannel in = onLoop(() -> {
            EmbeddedChannel ch = new EmbeddedChannel();
            new ForwardHandler(TARGET).init(ch, hc);
            ch.writeInbound(Unpooled.copiedBuffer("hi", StandardCharsets.US_ASCII));
            return ch;
        });
        await(in, d, () -> d.firstPayloads.size() == 2);
        // hop 0: relay CONNECT to hop 1's address 10.0.0.2:1001, nothing else
        assertEquals("0101000a020007010a00000203e9", d.firstPayloads.get(0));
        assertEquals(List.of(false, true), d.over);
        assertEquals("00b831381d63244d53ad4f8cda48b3081100010050017f000001" + "6869", d.firstPayloads.get(1));
        onLoop(in::finishAndReleaseAll);
        onLoop(() -> {
            d.close();
            return null;
        });
    }

}
