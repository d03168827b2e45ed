package dev.tunnelwire.internal.h2;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DecoratingHttp2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.collection.IntObjectHashMap;

/**
 * Ignores the frames a peer sent on a stream before our RST_STREAM for it reached the peer, as RFC 9113 §5.1
 * ("closed") requires, instead of answering each of them with a RST_STREAM of its own.
 *
 * <p><b>Why.</b> Netty forgets a stream as soon as it is closed. A DATA or HEADERS frame that arrives afterwards on
 * it is a stream error {@code STREAM_CLOSED} to Netty's decoder, which writes one RST_STREAM(STREAM_CLOSED) per such
 * frame through the connection encoder. When we end a tunnel stream while the peer is uploading (a server whose
 * destination closed the connection: iperf3 at the end of every test), a whole stream window of DATA can be on the
 * wire: hundreds of frames, each answered with a RST. On a server those RSTs count towards Netty's limit on RSTs
 * provoked by the peer (200 in 30 s; "MadeYouReset" protection), and crossing it closes the connection with
 * GOAWAY(ENHANCE_YOUR_CALM), taking every other tunnel on the connection with it (issue #16).
 *
 * <p><b>What.</b> This decorator sits outside Netty's encoders (so outside the RST limit, which still counts every
 * RST it lets through). It remembers the ids of the last {@value #REMEMBERED} streams we reset while the peer could
 * still send on them (state {@code OPEN} or {@code HALF_CLOSED_LOCAL}), and drops a RST_STREAM(STREAM_CLOSED) for a
 * stream Netty has forgotten if its id is among them: the promise succeeds and nothing is written. Netty's decoder
 * has already counted such a DATA frame against the connection window and given the bytes back at once, so flow
 * control is unaffected. Every other RST_STREAM (ours, and answers to frames on streams we never reset) is passed on.
 *
 * <p>Not thread-safe: used on the connection's event loop only, like every HTTP/2 encoder. Holds no buffers.
 */
final class LateFrameTolerantEncoder extends DecoratingHttp2ConnectionEncoder {

    /** How many reset streams are remembered; older ones are forgotten first. */
    static final int REMEMBERED = 1024;

    /** Ids of the streams we reset while the peer could still send, and their order; allocated on first use. */
    private IntObjectHashMap<Boolean> reset;
    private int[] order;
    private int next;

    LateFrameTolerantEncoder(Http2ConnectionEncoder delegate) {
        super(delegate);
    }

    @Override
    public ChannelFuture writeRstStream(ChannelHandlerContext ctx, int streamId, long errorCode,
                                        ChannelPromise promise) {
        Http2Stream stream = connection().stream(streamId);
        if (stream == null) {
            if (errorCode == Http2Error.STREAM_CLOSED.code() && reset != null && reset.containsKey(streamId)) {
                promise.trySuccess();
                return promise;
            }
        } else if (peerMaySend(stream)) {
            remember(streamId);
        }
        return super.writeRstStream(ctx, streamId, errorCode, promise);
    }

    private static boolean peerMaySend(Http2Stream stream) {
        return stream.state() == Http2Stream.State.OPEN || stream.state() == Http2Stream.State.HALF_CLOSED_LOCAL;
    }

    private void remember(int streamId) {
        if (reset == null) {
            reset = new IntObjectHashMap<>();
            order = new int[REMEMBERED];
        }
        if (reset.put(streamId, Boolean.TRUE) != null) {
            return;
        }
        int evicted = order[next];
        if (evicted != 0) {
            reset.remove(evicted);
        }
        order[next] = streamId;
        next = (next + 1) % REMEMBERED;
    }
}
