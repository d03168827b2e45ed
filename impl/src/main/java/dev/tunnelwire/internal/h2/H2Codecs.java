package dev.tunnelwire.internal.h2;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;

/**
 * Builds the HTTP/2 frame codecs of every HTTP/2-based transport with the same settings and protections.
 *
 * <p>Protections (Netty's, made explicit here so they are documented and tested in one place):
 * <ul>
 *   <li>rapid reset (CVE-2023-44487): at most {@value #MAX_RST_FRAMES_PER_WINDOW} RST_STREAM frames per
 *       {@value #RST_WINDOW_SECONDS} s from the peer, then GOAWAY(ENHANCE_YOUR_CALM);</li>
 *   <li>CONTINUATION flood: a header block larger than {@link H2Settings#maxHeaderListSize()} is refused while it is
 *       being received, however many CONTINUATION frames carry it;</li>
 *   <li>control-frame floods: at most {@value #MAX_QUEUED_CONTROL_FRAMES} queued PING/SETTINGS/RST acknowledgements;
 *       at most {@value #MAX_CONSECUTIVE_EMPTY_DATA_FRAMES} consecutive empty DATA frames;</li>
 *   <li>"made you reset" (CVE-2025-8671): at most {@value #MAX_RST_FRAMES_PER_WINDOW} RST_STREAM frames per
 *       {@value #RST_WINDOW_SECONDS} s that the server itself sends because of the client's frames (a HEADERS followed
 *       by an invalid WINDOW_UPDATE, for example), then GOAWAY(ENHANCE_YOUR_CALM);</li>
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
        return new H2ServerCodec.Builder()
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
        return Http2FrameCodecBuilder.forClient()
                .initialSettings(s.toNettySettings(true))
                .encoderEnforceMaxConcurrentStreams(true)
                .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(MAX_CONSECUTIVE_EMPTY_DATA_FRAMES)
                .validateHeaders(true)
                .autoAckPingFrame(true)
                .build();
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
            int delta = window - 65_535;
            if (delta > 0) {
                // A WINDOW_UPDATE without a stream is the connection window (Http2FrameCodec turns it into
                // Http2LocalFlowController#incrementWindowSize on the connection stream).
                ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(delta));
            }
            ctx.pipeline().remove(this);
        }
    }
}
