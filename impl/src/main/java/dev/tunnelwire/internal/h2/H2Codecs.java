package dev.tunnelwire.internal.h2;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;

/**
 * Builds the HTTP/2 frame codecs of every HTTP/2-based transport with the same settings and protections.
 *
 * <p>Both codecs ignore the frames a peer sent on a stream before our RST_STREAM for it reached the peer
 * ({@link LateFrameTolerantEncoder}) rather than answering each with a RST_STREAM: on a server those answers count
 * towards Netty's limit on RSTs provoked by the peer, and one tunnel ended during an upload could otherwise cost the
 * whole connection (issue #16).
 *
 * <p>Protections (Netty's, made explicit here so they are documented and tested in one place):
 * <ul>
 *   <li>rapid reset (CVE-2023-44487): at most {@value #MAX_RST_FRAMES_PER_WINDOW} RST_STREAM frames per
 *       {@value #RST_WINDOW_SECONDS} s from the peer, then GOAWAY(ENHANCE_YOUR_CALM);</li>
 *   <li>provoked resets ("MadeYouReset", CVE-2025-8671, server only: a HEADERS followed by an invalid WINDOW_UPDATE,
 *       for example): at most as many RST_STREAM frames in the same window that the
 *       peer's errors make us send, then the same GOAWAY (Netty's server default, until issue #16 implicit here);
 *       answers to frames the peer sent before it saw our own RST_STREAM are not sent at all (see above);</li>
 *   <li>CONTINUATION flood: a header block larger than {@link H2Settings#maxHeaderListSize()} is refused while it is
 *       being received, however many CONTINUATION frames carry it;</li>
 *   <li>control-frame floods: at most {@value #MAX_QUEUED_CONTROL_FRAMES} queued PING/SETTINGS/RST acknowledgements;
 *       at most {@value #MAX_CONSECUTIVE_EMPTY_DATA_FRAMES} consecutive empty DATA frames;</li>
 *   <li>stream limits: {@link H2Settings#maxConcurrentStreams()} announced and enforced;</li>
 *   <li>timeouts: the client preface within {@link H2Settings#prefaceTimeout()}, and a connection without an active
 *       stream closed after {@link H2Settings#serverIdleTimeout()} ({@link #addServer}).</li>
 * </ul>
 * Errors end the connection with one log line ({@link H2ConnectionErrors}).
 */
public final class H2Codecs {

    public static final int MAX_RST_FRAMES_PER_WINDOW = 200;
    public static final int RST_WINDOW_SECONDS = 30;
    public static final int MAX_QUEUED_CONTROL_FRAMES = 10_000;
    public static final int MAX_CONSECUTIVE_EMPTY_DATA_FRAMES = 2;
    public static final int MAX_SMALL_CONTINUATION_FRAMES = 16;

    private H2Codecs() {
    }

    /**
     * A server-side frame codec with the settings and protections above; requests without the pseudo-headers RFC 9113
     * 8.3.1 requires ({@code :method}; {@code :scheme} and {@code :path} except for CONNECT, which needs
     * {@code :authority}) and content-length mismatches are reset with PROTOCOL_ERROR before a stream reaches a
     * transport, and stream/connection errors follow RFC 9113 ({@link H2ServerCodec}).
     */
    public static Http2FrameCodec server(H2Settings s) {
        return new CodecBuilder(true)
                .initialSettings(s.toNettySettings(false))
                .decoderEnforceMaxRstFramesPerWindow(MAX_RST_FRAMES_PER_WINDOW, RST_WINDOW_SECONDS)
                .encoderEnforceMaxRstFramesPerWindow(MAX_RST_FRAMES_PER_WINDOW, RST_WINDOW_SECONDS)
                .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(MAX_CONSECUTIVE_EMPTY_DATA_FRAMES)
                .decoderEnforceMaxSmallContinuationFrames(MAX_SMALL_CONTINUATION_FRAMES)
                .validateHeaders(true)
                .validateRequiredPseudoHeaders(true)
                .autoAckPingFrame(true)
                .build();
    }

    /**
     * A client-side frame codec; streams beyond the server's concurrency limit wait for a free slot instead of
     * failing.
     */
    public static Http2FrameCodec client(H2Settings s) {
        return new CodecBuilder(false)
                .initialSettings(s.toNettySettings(true))
                .encoderEnforceMaxConcurrentStreams(true)
                .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(MAX_CONSECUTIVE_EMPTY_DATA_FRAMES)
                .validateHeaders(true)
                .autoAckPingFrame(true)
                .build();
    }

    /**
     * Netty's frame codec builder (with {@code forServer()}/{@code forClient()}'s defaults) that puts a
     * {@link LateFrameTolerantEncoder} around the encoder Netty assembles, outside Netty's own protections.
     */
    private static final class CodecBuilder extends Http2FrameCodecBuilder {
        /** The server's frame notes for {@link H2ServerCodec} (null on a client). */
        private final H2ServerCodec.InboundFrames frames;

        CodecBuilder(boolean server) {
            server(server);
            gracefulShutdownTimeoutMillis(0);
            frames = server ? new H2ServerCodec.InboundFrames() : null;
            if (server) {
                frameLogger(frames);
            }
        }

        @Override
        protected Http2FrameCodec build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                        Http2Settings initialSettings) {
            // The connection window is given back as DATA arrives, not when the tunnel reads it: stream windows
            // alone hold back a tunnel whose reader is paused, so a few paused tunnels cannot use up the connection
            // window and stop every other tunnel of the pooled connection (issue #16; grpc-go, which the gun peers
            // use, does the same). A connection then buffers at most its open streams times the stream window.
            io.netty.handler.codec.http2.Http2Connection c = encoder.connection();
            io.netty.handler.codec.http2.DefaultHttp2LocalFlowController flow =
                    new io.netty.handler.codec.http2.DefaultHttp2LocalFlowController(c,
                            io.netty.handler.codec.http2.DefaultHttp2LocalFlowController.DEFAULT_WINDOW_UPDATE_RATIO,
                            true);
            flow.frameWriter(encoder.frameWriter());
            c.local().flowController(flow);
            Http2ConnectionEncoder tolerant = new LateFrameTolerantEncoder(encoder);
            if (frames == null) {
                return super.build(decoder, tolerant, initialSettings);
            }
            Http2FrameCodec codec = new H2ServerCodec(tolerant, decoder, initialSettings, decoupleCloseAndGoAway(),
                    flushPreface(), frames);
            codec.gracefulShutdownTimeoutMillis(gracefulShutdownTimeoutMillis());
            return codec;
        }
    }

    /**
     * Installs the server side of HTTP/2 on a connection: frame codec and guards ({@link #addServer}), a multiplexer
     * whose streams get {@code streamHandler}, the connection-window raise and the error logger.
     *
     * @param what the listener, for log lines (e.g. {@code "h2c listener 127.0.0.1:8443"})
     */
    public static void installServer(io.netty.channel.Channel ch, H2Settings s, ChannelHandler streamHandler,
                                     String what) {
        ChannelPipeline p = ch.pipeline();
        String last = addServer(p, null, s, s.serverIdleTimeout());
        p.addAfter(last, "tw-h2-mux", new io.netty.handler.codec.http2.Http2MultiplexHandler(streamHandler));
        p.addAfter("tw-h2-mux", "tw-h2-window", connectionWindow(s));
        p.addLast(H2ConnectionErrors.NAME, new H2ConnectionErrors(what));
    }

    /**
     * Adds the server frame codec ({@code "tw-h2"}) after {@code after} (or last when {@code null}), followed by the
     * preface timeout and, unless {@code idle} is zero, the idle-connection timeout ({@link H2ServerIdleHandler}).
     *
     * @return the name of the last handler added, for the caller's next {@code addAfter}
     */
    public static String addServer(ChannelPipeline p, String after, H2Settings s, java.time.Duration idle) {
        if (after == null) {
            p.addLast("tw-h2", server(s));
        } else {
            p.addAfter(after, "tw-h2", server(s));
        }
        p.addAfter("tw-h2", H2PrefaceTimeoutHandler.NAME, new H2PrefaceTimeoutHandler(s.prefaceTimeout().toMillis()));
        String last = H2PrefaceTimeoutHandler.NAME;
        if (!idle.isZero()) {
            p.addAfter(last, H2ServerIdleHandler.NAME, new H2ServerIdleHandler(idle.toMillis()));
            last = H2ServerIdleHandler.NAME;
        }
        return last;
    }

    /** The regular (non-pseudo) headers of an HTTP/2 header block, as HTTP/1 headers (for {@code TunnelInfo}). */
    public static io.netty.handler.codec.http.HttpHeaders regularHeaders(io.netty.handler.codec.http2.Http2Headers h) {
        io.netty.handler.codec.http.HttpHeaders out = new io.netty.handler.codec.http.DefaultHttpHeaders();
        for (java.util.Map.Entry<CharSequence, CharSequence> e : h) {
            if (e.getKey().length() > 0 && e.getKey().charAt(0) != ':') {
                out.add(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /**
     * A one-shot handler for the connection pipeline (after the frame codec) that raises the connection-level receive
     * window to {@link H2Settings#connectionWindow()} once the connection is active, then removes itself.
     */
    public static ChannelHandler connectionWindow(H2Settings s) {
        return new ConnectionWindowHandler(s.connectionWindow());
    }

    private static final class ConnectionWindowHandler extends ChannelInboundHandlerAdapter {
        private final int window;

        ConnectionWindowHandler(int window) {
            this.window = window;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            if (ctx.channel().isActive()) {
                raise(ctx);
            }
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            raise(ctx);
            ctx.fireChannelActive();
        }

        private void raise(ChannelHandlerContext ctx) {
            // relative to the window the codec already has (it may have raised it by itself)
            Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
            int current = codec == null ? 65_535 : codec.connection().local().flowController()
                    .windowSize(codec.connection().connectionStream());
            int delta = window - current;
            if (delta > 0) {
                // A WINDOW_UPDATE without a stream is the connection window (Http2FrameCodec turns it into
                // Http2LocalFlowController#incrementWindowSize on the connection stream).
                ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(delta));
            }
            ctx.pipeline().remove(this);
        }
    }
}
