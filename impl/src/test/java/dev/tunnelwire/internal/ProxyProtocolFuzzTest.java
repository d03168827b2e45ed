package dev.tunnelwire.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.fuzz.Fuzz;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzz target: the PROXY protocol v1/v2 front of every listener that requires it ({@link ServerStack#install} with
 * {@code acceptProxyProtocol}: Netty's {@link HAProxyMessageDecoder} and {@link ProxyProtocolServerHandler}), with
 * a sink as the transport. Input: byte 0 the split, then the bytes.
 *
 * <p>Invariants: nothing reaches the end of the pipeline; no leak; the transport sees no byte before the header was
 * accepted, and after it exactly the input's tail (the bytes that followed the header); both PROXY handlers are gone
 * once the header is accepted; the client address is only set by an accepted header.
 */
class ProxyProtocolFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void header(byte[] input) {
        int split = Fuzz.option(input);
        byte[] data = Fuzz.payload(input);
        EmbeddedChannel ch = new EmbeddedChannel();
        ByteArrayOutputStream delivered = new ByteArrayOutputStream();
        boolean[] decoded = new boolean[1];
        boolean[] early = new boolean[1];
        new ServerStack(TunnelRuntime.shared(), ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0))
                .withAcceptProxyProtocol(true), List.of(), false)
                .install(ch, c -> c.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (!decoded[0]) {
                            early[0] = true;
                        }
                        if (msg instanceof ByteBuf b) {
                            delivered.writeBytes(ByteBufUtil.getBytes(b));
                        }
                        ReferenceCountUtil.release(msg);
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt == ProxyHeaderDecodedEvent.INSTANCE) {
                            decoded[0] = true;
                        }
                        ReferenceCountUtil.release(evt);
                    }
                }));
        boolean addressSet;
        try {
            Fuzz.feed(ch, data, Fuzz.split(split, data.length), Fuzz.NOTHING);
            addressSet = ch.attr(Connections.CLIENT_ADDRESS).get() != null;
            if (decoded[0] && (ch.pipeline().get(HAProxyMessageDecoder.class) != null
                    || ch.pipeline().get(ProxyProtocolServerHandler.class) != null)) {
                throw new AssertionError("PROXY handlers still in the pipeline after the header");
            }
            Fuzz.advance(ch, 20, Fuzz.NOTHING);
        } finally {
            Fuzz.finish(ch, Fuzz.NOTHING);
        }
        if (early[0]) {
            throw new AssertionError("bytes reached the transport before a PROXY header was accepted");
        }
        if (addressSet && !decoded[0]) {
            throw new AssertionError("client address set without an accepted header");
        }
        byte[] got = delivered.toByteArray();
        if (got.length > data.length
                || !Arrays.equals(got, Arrays.copyOfRange(data, data.length - got.length, data.length))) {
            throw new AssertionError("the transport got bytes that are not the input's tail: "
                    + ByteBufUtil.hexDump(got));
        }
        Fuzz.noLeaks();
    }
}
