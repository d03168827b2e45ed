package dev.tunnelwire.proxy;

import dev.tunnelwire.proxy.auto.AutoHandler;
import dev.tunnelwire.proxy.forward.ForwardHandler;
import dev.tunnelwire.proxy.relay.RelayConnector;
import dev.tunnelwire.proxy.vless.VlessConnector;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProtocolsTest {

    @Test
    void buildsByName() {
        // without the key, the default agent (and not the alias name) is used
        Handler http = Protocols.handler("http", Map.of(), null, Map.of());
        io.netty.channel.embedded.EmbeddedChannel in = new io.netty.channel.embedded.EmbeddedChannel();
        FakeOutbound out = new FakeOutbound();
        out.failure = FakeOutbound.REFUSED;
        http.init(in, FakeOutbound.context(out));
        in.writeInbound(io.netty.buffer.Unpooled.copiedBuffer("CONNECT a:1 HTTP/1.1\r\n\r\n",
                java.nio.charset.StandardCharsets.US_ASCII));
        in.runPendingTasks();
        assertTrue(new String(FakeOutbound.drainOutbound(in), java.nio.charset.StandardCharsets.US_ASCII)
                .contains("Proxy-Agent: tunnelwire\r\n"));
        in.finishAndReleaseAll();
        assertInstanceOf(AutoHandler.class, Protocols.handler("auto", Map.of("u", "p"), null,
                Map.of("proxyAgent", "gost/3.0", "earlyReply", "true")));
        assertEquals(Destination.of("127.0.0.1", 22), ((ForwardHandler) Protocols.handler("tcp", Map.of(),
                Destination.parse("127.0.0.1:22"), Map.of())).target());
        assertInstanceOf(RelayConnector.class, Protocols.connector("relay", "u", "p", Map.of("nodelay", "true")));
        assertInstanceOf(VlessConnector.class, Protocols.connector("VLESS", "some-id", null, Map.of()));
        assertEquals("socks5", Protocols.connector("socks", null, null, Map.of()).protocol());
    }

    @Test
    void rejectsWhatItDoesNotUnderstand() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Protocols.connector("relay", null, null, Map.of("nodelya", "true")));
        assertTrue(e.getMessage().contains("nodelya"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Protocols.handler("forward", Map.of(), null, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> Protocols.handler("vless", Map.of(), null, Map.of()));
        assertThrows(IllegalArgumentException.class,
                () -> Protocols.handler("socks5", Map.of(), Destination.of("a", 1), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> Protocols.connector("ss", null, null, Map.of()));
    }
}
