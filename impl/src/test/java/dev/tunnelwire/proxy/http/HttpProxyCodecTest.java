package dev.tunnelwire.proxy.http;

import dev.tunnelwire.proxy.Authenticator;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.FakeOutbound;
import dev.tunnelwire.proxy.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static dev.tunnelwire.proxy.FakeOutbound.drainInbound;
import static dev.tunnelwire.proxy.FakeOutbound.drainOutbound;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Response bytes of peer-gost.md §2.2 (with gost's realm and agent configured) and the connector's request. */
class HttpProxyCodecTest {

    static final HttpHandlerOptions GOST = HttpHandlerOptions.builder().realm("gost").proxyAgent("gost/3.0")
            .authenticator(Authenticator.user("user", "pass")).build();

    static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void wrongCredentialsGet407WithGostBytes() {
        String[][] cases = {
            {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
                    + "Proxy-Authorization: Basic dXNlcjp3cm9uZw==\r\n\r\n",
             "HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\n"
                    + "Proxy-Authenticate: Basic realm=\"gost\"\r\n\r\n"},
            {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: Go-http-client/1.1\r\n"
                    + "Proxy-Connection: keep-alive\r\n\r\n",
             "HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\n"
                    + "Proxy-Authenticate: Basic realm=\"gost\"\r\nProxy-Connection: close\r\n\r\n"},
        };
        for (String[] c : cases) {
            FakeOutbound out = new FakeOutbound();
            EmbeddedChannel in = new EmbeddedChannel();
            new HttpHandler(GOST).init(in, FakeOutbound.context(out));
            in.writeInbound(ascii(c[0]));
            in.runPendingTasks();
            assertEquals(c[1], str(drainOutbound(in)));
            assertFalse(in.isActive());
            assertEquals(0, out.connects);
            in.finishAndReleaseAll();
        }
    }

    @Test
    void connectAnswers200AndKeepsPipelinedBytes() {
        FakeOutbound out = new FakeOutbound();
        EmbeddedChannel in = new EmbeddedChannel();
        new HttpHandler(GOST).init(in, FakeOutbound.context(out));
        in.writeInbound(ascii("CONNECT [::1]:22 HTTP/1.1\r\nHost: [::1]:22\r\n"
                + "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\nSSH-2.0-client\r\n"));
        in.runPendingTasks();
        assertEquals(Destination.of("::1", 22), out.destination);
        assertEquals("HTTP/1.1 200 Connection established\r\nProxy-Agent: gost/3.0\r\n\r\n", str(drainOutbound(in)));
        assertEquals("SSH-2.0-client\r\n", str(drainOutbound(out.channel)));
        in.finishAndReleaseAll();
        out.channel.finishAndReleaseAll();
    }

    @Test
    void connectWithoutPortUses80AndUnreachableGets503() {
        FakeOutbound out = new FakeOutbound();
        out.failure = FakeOutbound.REFUSED;
        EmbeddedChannel in = new EmbeddedChannel();
        new HttpHandler(HttpHandlerOptions.builder().proxyAgent("gost/3.0").build())
                .init(in, FakeOutbound.context(out));
        in.writeInbound(ascii("CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"));
        in.runPendingTasks();
        assertEquals(Destination.of("example.com", 80), out.destination);
        assertEquals("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nProxy-Agent: gost/3.0\r\n\r\n",
                str(drainOutbound(in)));
        assertFalse(in.isActive());
        in.finishAndReleaseAll();
    }

    @Test
    void originFormRequestIsBadRequest() {
        FakeOutbound out = new FakeOutbound();
        EmbeddedChannel in = new EmbeddedChannel();
        new HttpHandler(HttpHandlerOptions.defaults()).init(in, FakeOutbound.context(out));
        in.writeInbound(ascii("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"));
        in.runPendingTasks();
        assertEquals("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n", str(drainOutbound(in)));
        in.finishAndReleaseAll();
    }

    @Test
    void absoluteUriRequestsAreForwardedInOriginFormOnAKeptAliveConnection() {
        FakeOutbound out = new FakeOutbound();
        EmbeddedChannel in = new EmbeddedChannel();
        new HttpHandler(HttpHandlerOptions.defaults()).init(in, FakeOutbound.context(out));
        in.writeInbound(ascii("POST http://example.com:8080/a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\n"
                + "Proxy-Connection: keep-alive\r\nContent-Length: 3\r\n\r\nabc"));
        in.runPendingTasks();
        assertEquals(Destination.of("example.com", 8080), out.destination);
        EmbeddedChannel first = out.channel;
        String forwarded = str(drainOutbound(first));
        assertTrue(forwarded.startsWith("POST /a/b?c=d HTTP/1.1\r\n"), forwarded);
        assertTrue(forwarded.contains("Connection: close\r\n"), forwarded);
        assertFalse(forwarded.toLowerCase().contains("proxy-connection"), forwarded);
        assertTrue(forwarded.endsWith("\r\n\r\nabc"), forwarded);
        first.writeInbound(ascii("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi"));
        in.runPendingTasks();
        assertEquals("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi",
                str(drainOutbound(in)).replace("Content-Length", "content-length"));
        assertFalse(first.isActive(), "one upstream connection per request");
        assertTrue(in.isActive(), "client connection kept alive");

        in.writeInbound(ascii("GET http://other.example/ HTTP/1.1\r\nHost: other.example\r\n\r\n"));
        in.runPendingTasks();
        assertEquals(Destination.of("other.example", 80), out.destination);
        assertTrue(str(drainOutbound(out.channel)).startsWith("GET / HTTP/1.1\r\n"));
        out.channel.writeInbound(ascii("HTTP/1.1 200 OK\r\n\r\nuntil-close"));
        out.channel.close();
        in.runPendingTasks();
        String r = str(drainOutbound(in));
        assertTrue(r.startsWith("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-close"), r);
        assertFalse(in.isActive(), "close-delimited response closes the client connection");
        in.finishAndReleaseAll();
        first.finishAndReleaseAll();
        out.channel.finishAndReleaseAll();
    }

    @Test
    void connectorSendsRequestWithPayloadAndKeepsBytesAfterThe200() {
        var hs = new HttpConnector(new HttpConnectorOptions("user", "pass"))
                .handshake(Destination.of("::1", 22), ascii("hello"), ByteBufAllocator.DEFAULT);
        ByteBuf first = hs.firstBytes();
        assertEquals("CONNECT [::1]:22 HTTP/1.1\r\nHost: [::1]:22\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n"
                + "Proxy-Connection: keep-alive\r\n\r\nhello", first.toString(StandardCharsets.ISO_8859_1));
        first.release();
        EmbeddedChannel ch = new EmbeddedChannel();
        Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
        hs.install(ch, ready);
        ch.writeInbound(ascii("HTTP/1.1 200 Connection established\r\nProxy-Agent: gost/3.0\r\n\r\nSSH-2.0-OpenSSH\r\n"));
        assertTrue(ready.isSuccess());
        assertEquals("SSH-2.0-OpenSSH\r\n", str(drainInbound(ch)), "bytes in the same read as the 200");
        ch.writeInbound(ascii("more"));
        assertEquals("more", str(drainInbound(ch)));
        ch.finishAndReleaseAll();
    }

    @Test
    void connectorFailsWithTheStatus() {
        var hs = new HttpConnector(HttpConnectorOptions.defaults())
                .handshake(Destination.of("example.com", 443), null, ByteBufAllocator.DEFAULT);
        hs.firstBytes().release();
        EmbeddedChannel ch = new EmbeddedChannel();
        Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
        hs.install(ch, ready);
        ch.writeInbound(ascii("HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\n"
                + "Proxy-Authenticate: Basic realm=\"gost\"\r\n\r\n"));
        assertInstanceOf(ProxyException.class, ready.cause());
        assertEquals(407, ((ProxyException) ready.cause()).code());
        assertFalse(ch.isActive());
        ch.finishAndReleaseAll();
    }
}
