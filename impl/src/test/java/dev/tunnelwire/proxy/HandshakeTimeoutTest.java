package dev.tunnelwire.proxy;

import dev.tunnelwire.proxy.auto.AutoHandler;
import dev.tunnelwire.proxy.http.HttpHandler;
import dev.tunnelwire.proxy.http.HttpHandlerOptions;
import dev.tunnelwire.proxy.relay.RelayHandler;
import dev.tunnelwire.proxy.relay.RelayHandlerOptions;
import dev.tunnelwire.proxy.socks5.Socks5Handler;
import dev.tunnelwire.proxy.socks5.Socks5HandlerOptions;
import dev.tunnelwire.proxy.vless.VlessHandler;
import dev.tunnelwire.proxy.vless.VlessHandlerOptions;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A client that never completes its request is closed after the handshake timeout, by every handler. */
class HandshakeTimeoutTest {

    @Test
    void incompleteRequestsAreClosedAfterTheTimeout() {
        List<Handler> handlers = List.of(new VlessHandler(VlessHandlerOptions.of("x")),
                new Socks5Handler(Socks5HandlerOptions.defaults()), new HttpHandler(HttpHandlerOptions.defaults()),
                new RelayHandler(RelayHandlerOptions.defaults()),
                new AutoHandler(Socks5HandlerOptions.defaults(), HttpHandlerOptions.defaults()));
        for (Handler h : handlers) {
            FakeOutbound out = new FakeOutbound();
            HandlerContext hc = new HandlerContext("t", out, Duration.ofSeconds(15), Duration.ZERO);
            EmbeddedChannel in = new EmbeddedChannel();
            h.init(in, hc);
            byte first = h instanceof AutoHandler || h instanceof HttpHandler ? (byte) 'G' : h instanceof Socks5Handler ? (byte) 5 : h instanceof RelayHandler ? (byte) 1 : 0;
            in.writeInbound(Unpooled.wrappedBuffer(new byte[] {first}));
            in.advanceTimeBy(14, TimeUnit.SECONDS);
            in.runScheduledPendingTasks();
            assertTrue(in.isActive(), h.protocol() + " still waiting at 14 s");
            in.advanceTimeBy(2, TimeUnit.SECONDS);
            in.runScheduledPendingTasks();
            in.runPendingTasks();
            assertFalse(in.isActive(), h.protocol() + " closed at 16 s");
            assertEquals(0, out.connects);
            in.finishAndReleaseAll();
        }
    }
}
