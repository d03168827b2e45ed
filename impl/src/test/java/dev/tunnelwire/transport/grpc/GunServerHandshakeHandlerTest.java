package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.TunnelInfo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Request validation of the server, one gRPC call per EmbeddedChannel (standing in for the stream channel). */
class GunServerHandshakeHandlerTest {

    private final List<TunnelInfo> accepted = new ArrayList<>();
    private EmbeddedChannel ch;

    @AfterEach
    void tearDown() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    private EmbeddedChannel server(GrpcOptions options) {
        ch = new EmbeddedChannel(new GunServerHandshakeHandler(options.serverRoutes(), options,
                (tunnel, info) -> accepted.add(info)));
        return ch;
    }

    private static Http2HeadersFrame request(String method, String path, String contentType, boolean end) {
        Http2Headers h = new DefaultHttp2Headers().method(method).scheme("http").path(path).authority("127.0.0.1:1");
        if (contentType != null) {
            h.set("content-type", contentType);
        }
        h.set("te", "trailers").set("user-agent", "anything/1.0");
        return new DefaultHttp2HeadersFrame(h, end);
    }

    private Http2Headers response() {
        Http2HeadersFrame f = ch.readOutbound();
        assertNotNull(f, "a response");
        return f.headers();
    }

    @Test
    void acceptsTunAndRespondsAtOnce() {
        server(GrpcOptions.builder().serviceName("gunsvc").build());
        ch.writeInbound(request("POST", "/gunsvc/Tun", "application/grpc", false));
        Http2HeadersFrame f = ch.readOutbound();
        assertFalse(f.isEndStream());
        assertEquals("200", f.headers().status().toString());
        assertEquals("application/grpc", f.headers().get("content-type").toString());
        assertEquals(1, accepted.size());
        assertEquals("/gunsvc/Tun", accepted.get(0).path());
        assertEquals("127.0.0.1:1", accepted.get(0).authority());
        assertEquals("anything/1.0", accepted.get(0).headers().get("user-agent"));
        assertNotNull(ch.pipeline().get(GunStreamAdapter.class));
        assertNull(ch.pipeline().get(GunServerHandshakeHandler.class));
        // Data after the HEADERS reaches the tunnel as bytes.
        ch.writeInbound(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(
                ByteBufUtil.decodeHexDump("00000000070a0568656c6c6f")), false));
        ByteBuf b = ch.readInbound();
        assertEquals("hello", b.toString(StandardCharsets.US_ASCII));
        b.release();
    }

    @Test
    void acceptsTunMultiWithMultiHunkDecoding() {
        server(GrpcOptions.builder().serviceName("gunsvc").build());
        ch.writeInbound(request("POST", "/gunsvc/TunMulti", "application/grpc+proto", false));
        assertEquals("200", response().status().toString());
        ch.writeInbound(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(
                ByteBufUtil.decodeHexDump("00000000090a0261620a03636465")), false));
        ByteBuf a = ch.readInbound();
        ByteBuf b = ch.readInbound();
        assertEquals("ab", a.toString(StandardCharsets.US_ASCII));
        assertEquals("cde", b.toString(StandardCharsets.US_ASCII));
        a.release();
        b.release();
    }

    @Test
    void wrongServiceIsUnimplementedTrailersOnly() {
        server(GrpcOptions.builder().serviceName("gunsvc").build());
        ch.writeInbound(request("POST", "/other/Tun", "application/grpc", false));
        Http2HeadersFrame f = ch.readOutbound();
        assertTrue(f.isEndStream());
        assertEquals("200", f.headers().status().toString());
        assertEquals("12", f.headers().get("grpc-status").toString());
        assertEquals("unknown service other", f.headers().get("grpc-message").toString());
        assertTrue(accepted.isEmpty());
        assertFalse(ch.isOpen());
    }

    @Test
    void wrongMethodIsUnimplementedWithGrpcGoWording() {
        server(GrpcOptions.builder().serviceName("gunsvc").build());
        ch.writeInbound(request("POST", "/gunsvc/Nope", "application/grpc", false));
        Http2Headers h = response();
        assertEquals("12", h.get("grpc-status").toString());
        assertEquals("unknown method Nope for service gunsvc", h.get("grpc-message").toString());
    }

    @Test
    void wrongContentTypeIs415() {
        server(GrpcOptions.defaults());
        ch.writeInbound(request("POST", "//Tun", "application/json", false));
        Http2Headers h = response();
        assertEquals("415", h.status().toString());
        assertEquals("3", h.get("grpc-status").toString());
        assertTrue(accepted.isEmpty());
    }

    @Test
    void missingContentTypeIs415() {
        server(GrpcOptions.defaults());
        ch.writeInbound(request("POST", "//Tun", null, false));
        assertEquals("415", response().status().toString());
    }

    @Test
    void contentTypeMustBeGrpcNotAPrefixOfSomethingElse() {
        server(GrpcOptions.defaults());
        ch.writeInbound(request("POST", "//Tun", "application/grpcx", false));
        assertEquals("415", response().status().toString());
    }

    @Test
    void nonPostIs405() {
        server(GrpcOptions.defaults());
        ch.writeInbound(request("GET", "//Tun", "application/grpc", true));
        assertEquals("405", response().status().toString());
        assertTrue(accepted.isEmpty());
    }

    @Test
    void emptyServiceNameServesDoubleSlashTun() {
        server(GrpcOptions.defaults());
        ch.writeInbound(request("POST", "//Tun", "application/grpc", false));
        assertEquals("200", response().status().toString());
        assertEquals(1, accepted.size());
    }

    @Test
    void escapedAndUnescapedServiceNamesBothMatch() {
        server(GrpcOptions.builder().serviceName("a/b").build());
        ch.writeInbound(request("POST", "/a%2Fb/Tun", "application/grpc", false));
        assertEquals("200", response().status().toString());
        ch.finishAndReleaseAll();
        server(GrpcOptions.builder().serviceName("a/b").build());
        ch.writeInbound(request("POST", "/a/b/Tun", "application/grpc", false));
        assertEquals("200", response().status().toString());
        assertEquals(2, accepted.size());
    }

    @Test
    void xrayCustomPathServesBothNames() {
        GrpcOptions o = GrpcOptions.builder().serviceName("/my/sample/tun|multi").build();
        server(o);
        ch.writeInbound(request("POST", "/my/sample/tun", "application/grpc", false));
        assertEquals("200", response().status().toString());
        ch.finishAndReleaseAll();
        server(o);
        ch.writeInbound(request("POST", "/my/sample/multi", "application/grpc", false));
        assertEquals("200", response().status().toString());
        ch.finishAndReleaseAll();
        server(o);
        ch.writeInbound(request("POST", "/my/sample/Tun", "application/grpc", false));
        assertEquals("12", response().get("grpc-status").toString());
    }

    @Test
    void oneListenerServesGunAndGostPaths() {
        GrpcOptions o = GrpcOptions.builder().serviceName("gunsvc").gostPath("/foo")
                .serve(EnumSet.allOf(GrpcOptions.Flavour.class)).build();
        for (String path : List.of("/gunsvc/Tun", "/gunsvc/TunMulti", "/foo/Tunnel")) {
            server(o);
            ch.writeInbound(request("POST", path, "application/grpc", false));
            assertEquals("200", response().status().toString(), path);
            ch.finishAndReleaseAll();
        }
        server(o);
        ch.writeInbound(request("POST", "/GostTunel/Tunnel", "application/grpc", false));
        assertEquals("12", response().get("grpc-status").toString());
        assertEquals(3, accepted.size());
    }

    @Test
    void callWithoutBodyIsAHalfClosedTunnel() {
        server(GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).build());
        List<Object> events = new ArrayList<>();
        ch.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt) {
                events.add(evt);
            }
        });
        ch.writeInbound(request("POST", "/GostTunel/Tunnel", "application/grpc", true));
        assertEquals("200", response().status().toString());
        assertTrue(events.contains(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE), events.toString());
    }
}
