package dev.tunnelwire.internal.h2;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.logging.LogLevel;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameListenerDecorator;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;

/**
 * The server frame codec of every HTTP/2 listener: Netty's {@link Http2FrameCodec} with two corrections to its
 * error handling, where Netty is more lenient than RFC 9113 (both found by h2spec, docs/h2spec.md).
 *
 * <ul>
 *   <li><b>Stream errors on an open stream are answered with RST_STREAM carrying the error's code.</b> Netty's
 *       frame codec sends nothing itself for an inbound stream error on a stream that has a child channel; it hands
 *       the error to the child, whose application then decides, and the tunnels ended the stream gracefully (END_STREAM)
 *       or reset it with CANCEL. Here the stream is reset with the error's code (PROTOCOL_ERROR for a malformed
 *       request, STREAM_CLOSED for a frame on a half-closed stream, FLOW_CONTROL_ERROR, ...) before the
 *       application sees anything; its channel then closes (RFC 9113, 5.4.2).</li>
 *   <li><b>Frames for streams that are gone are connection errors where the RFC says so.</b> Netty cannot tell a
 *       skipped stream identifier from a closed stream and answers both with a stream error of type STREAM_CLOSED
 *       ("the lesser of the two errors"). This codec remembers the identifiers a client skipped (up to
 *       {@value #MAX_GAPS} gaps) and the last {@value #CLOSED_RING} streams that ended with END_STREAM in both
 *       directions and no RST_STREAM: a frame Netty rejects on a skipped identifier is a connection error
 *       PROTOCOL_ERROR (RFC 9113, 5.1.1: a new stream's identifier must be greater than every earlier one), a
 *       HEADERS on a stream that ended normally a connection error STREAM_CLOSED (5.1, "closed", where the RFC
 *       allows it; DATA there keeps Netty's counted stream error, as frames in flight may). Streams that were reset
 *       (either way) keep Netty's stream error: frames in flight when a RST_STREAM crossed them are legitimate.
 *       Anything not remembered keeps Netty's behaviour.</li>
 * </ul>
 */
final class H2ServerCodec extends Http2FrameCodec {

    static final int MAX_GAPS = 16;
    static final int CLOSED_RING = 64;

    private final int[] gaps = new int[MAX_GAPS * 2];
    private int gapCount;
    private int gapNext;
    private final int[] closedNormally = new int[CLOSED_RING];
    private int closedNext;
    private int lastRemote;
    private final Http2Connection.PropertyKey resetReceived;
    private final InboundFrames frames;

    H2ServerCodec(Http2ConnectionEncoder encoder, Http2ConnectionDecoder decoder, Http2Settings settings,
                          boolean decoupleCloseAndGoAway, boolean flushPreface, InboundFrames frames) {
        super(encoder, decoder, settings, decoupleCloseAndGoAway, flushPreface);
        this.frames = frames;
        frames.connection = connection();
        resetReceived = connection().newKey();
        connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamAdded(Http2Stream stream) {
                int id = stream.id();
                if (connection().remote().isValidStreamId(id) && id > lastRemote) {
                    int expected = lastRemote == 0 ? 1 : lastRemote + 2;
                    if (id > expected) {
                        addGap(expected, id - 2);
                    }
                    lastRemote = id;
                }
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
                if (connection().remote().isValidStreamId(stream.id()) && !stream.isResetSent()
                        && stream.getProperty(resetReceived) == null) {
                    closedNormally[closedNext] = stream.id();
                    closedNext = (closedNext + 1) % CLOSED_RING;
                }
            }
        });
        decoder.frameListener(new Http2FrameListenerDecorator(decoder.frameListener()) {
            @Override
            public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode)
                    throws Http2Exception {
                Http2Stream s = connection().stream(streamId);
                if (s != null) {
                    s.setProperty(resetReceived, Boolean.TRUE);
                }
                super.onRstStreamRead(ctx, streamId, errorCode);
            }
        });
    }

    private void addGap(int from, int to) {
        gaps[gapNext * 2] = from;
        gaps[gapNext * 2 + 1] = to;
        gapNext = (gapNext + 1) % MAX_GAPS;
        gapCount = Math.min(gapCount + 1, MAX_GAPS);
    }

    private boolean skipped(int id) {
        for (int i = 0; i < gapCount; i++) {
            if (id >= gaps[i * 2] && id <= gaps[i * 2 + 1]) {
                return true;
            }
        }
        return false;
    }

    private boolean endedNormally(int id) {
        for (int c : closedNormally) {
            if (c == id) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void onError(ChannelHandlerContext ctx, boolean outbound, Throwable cause) {
        Http2Exception e = Http2CodecUtil.getEmbeddedHttp2Exception(cause);
        if (!outbound && e instanceof Http2Exception.StreamException se
                && !(e instanceof Http2Exception.HeaderListSizeException)) {
            int id = se.streamId();
            Http2Stream stream = connection().stream(id);
            if (stream != null) {
                // RST_STREAM with the error's own code, before the application hears of it. Netty checks "too many
                // headers" (PROTOCOL_ERROR) before the stream state; a HEADERS on a half-closed (remote) stream is
                // STREAM_CLOSED (RFC 9113, 5.1).
                Http2Error code = frames.headersOnEndedStream == id ? Http2Error.STREAM_CLOSED : se.error();
                frames.headersOnEndedStream = 0;
                // through the encoder, so that the made-you-reset limit counts it
                encoder().writeRstStream(ctx, id, code.code(), ctx.newPromise());
                ctx.flush();
                return;
            }
            if (se.error() == Http2Error.STREAM_CLOSED && connection().remote().isValidStreamId(id)
                    && id <= lastRemote) {
                if (skipped(id)) {
                    super.onError(ctx, false, Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR, cause,
                            "stream %d was skipped: a new stream's identifier must be greater than %d", id,
                            lastRemote));
                    return;
                }
                if (endedNormally(id) && frames.lastInboundHeaders == id) {
                    super.onError(ctx, false, Http2Exception.connectionError(Http2Error.STREAM_CLOSED, cause,
                            "frame on stream %d after it ended", id));
                    return;
                }
            }
        }
        super.onError(ctx, outbound, cause);
    }

    /**
     * Notes a HEADERS that arrives on a stream the client has already ended (half-closed (remote)): Netty rejects it
     * with PROTOCOL_ERROR ("too many headers") where RFC 9113 5.1 wants STREAM_CLOSED. Netty's frame logger is the
     * one hook that sees a frame before the decoder's checks. Such a HEADERS always ends in a stream error (or is
     * ignored on a stream already reset), which clears the note. Frames are still logged at TRACE under
     * {@code dev.tunnelwire.internal.h2.frames} when that is enabled.
     */
    static final class InboundFrames extends Http2FrameLogger {
        Http2Connection connection;
        int headersOnEndedStream;
        /** The stream of the last inbound frame if it was a HEADERS, else 0. */
        int lastInboundHeaders;

        InboundFrames() {
            super(LogLevel.TRACE, "dev.tunnelwire.internal.h2.frames");
        }

        private void headers(Direction d, int streamId) {
            if (d == Direction.INBOUND) {
                lastInboundHeaders = streamId;
            }
            if (d == Direction.INBOUND && connection != null) {
                Http2Stream s = connection.stream(streamId);
                headersOnEndedStream = s != null && s.state() == Http2Stream.State.HALF_CLOSED_REMOTE ? streamId : 0;
            }
        }

        @Override
        public void logData(Direction d, ChannelHandlerContext ctx, int streamId, io.netty.buffer.ByteBuf data,
                            int padding, boolean endStream) {
            if (d == Direction.INBOUND) {
                lastInboundHeaders = 0;
            }
            super.logData(d, ctx, streamId, data, padding, endStream);
        }

        @Override
        public void logHeaders(Direction d, ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                               boolean endStream) {
            headers(d, streamId);
            super.logHeaders(d, ctx, streamId, headers, padding, endStream);
        }

        @Override
        public void logHeaders(Direction d, ChannelHandlerContext ctx, int streamId, Http2Headers headers,
                               int streamDependency, short weight, boolean exclusive, int padding, boolean endStream) {
            headers(d, streamId);
            super.logHeaders(d, ctx, streamId, headers, streamDependency, weight, exclusive, padding, endStream);
        }
    }
}
