package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.Tunnels;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;

import java.nio.channels.ClosedChannelException;

/**
 * Sits first on a tunnel's {@code Http2StreamChannel}: HTTP/2 frames of one gRPC call ↔ the byte stream that
 * {@link GunFrameDecoder}/{@link GunFrameEncoder} turn into tunnel bytes.
 *
 * <p><b>Inbound.</b> DATA content is passed on as {@link ByteBuf}s; END_STREAM (on DATA or trailers) becomes a
 * {@link ChannelInputShutdownEvent}. A client checks the response: {@code :status} other than 200 or a non-zero
 * {@code grpc-status} (in a trailers-only response or in trailers) fires a {@link GrpcStatusException} and closes the
 * tunnel; a response that ends without trailers or {@code grpc-status} (sing-box's lite server) is a normal end.
 *
 * <p><b>Outbound.</b> Each {@link ByteBuf} (one framed gun message) becomes a DATA frame. {@link Tunnels#SHUTDOWN_OUTPUT}
 * ends our half of the call: END_STREAM on the client, trailers {@code grpc-status: 0} on the server. A server
 * tunnel closed by the application first sends those trailers (grpc-go clients report an error for a stream that ends
 * without them). A {@link GunAbort} from the decoder ends the call with an error (server: trailers with its status;
 * client: the stream is reset by closing it).
 *
 * <p><b>Reference counting:</b> DATA content is handed on (the frame is not released separately); empty frames are
 * released here. Buffers written after our output was shut down are released and their writes failed.
 */
final class GunStreamAdapter extends ChannelDuplexHandler {

    private final boolean client;
    private boolean responseSeen;
    private boolean inputShut;
    private boolean outputShut;
    private boolean failed;

    GunStreamAdapter(boolean client) {
        this.client = client;
    }

    /** The response HEADERS a server sends as soon as it accepts a call. */
    static Http2HeadersFrame responseHeaders() {
        return new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()
                .status("200")
                .set(GrpcProtocol.CONTENT_TYPE, GrpcProtocol.CONTENT_TYPE_GRPC), false);
    }

    /** Trailers ending a server's half of the call. */
    static Http2HeadersFrame trailers(int grpcStatus, String message) {
        Http2Headers h = new DefaultHttp2Headers().set(GrpcProtocol.GRPC_STATUS, Integer.toString(grpcStatus));
        if (message != null) {
            h.set(GrpcProtocol.GRPC_MESSAGE, GrpcProtocol.encodeGrpcMessage(message));
        }
        return new DefaultHttp2HeadersFrame(h, true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2DataFrame data) {
            boolean end = data.isEndStream();
            if (inputShut || failed || !data.content().isReadable()) {
                data.release();
            } else {
                ctx.fireChannelRead(data.content());
            }
            if (end) {
                remoteEnded(ctx);
            }
        } else if (msg instanceof Http2HeadersFrame headers) {
            onHeaders(ctx, headers);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHeaders(ChannelHandlerContext ctx, Http2HeadersFrame frame) {
        Http2Headers h = frame.headers();
        if (client && !responseSeen) {
            int http = parse(h.status());
            if (http >= 100 && http < 200 && !frame.isEndStream()) {
                return; // informational (1xx): the real response follows
            }
            responseSeen = true;
            if (http != 200) {
                fail(ctx, new GrpcStatusException(http, parse(h.get(GrpcProtocol.GRPC_STATUS)), message(h)));
                return;
            }
        }
        if (client && !checkGrpcStatus(ctx, h)) {
            return;
        }
        if (frame.isEndStream()) {
            remoteEnded(ctx);
        }
    }

    /** A non-zero grpc-status (trailers-only response or trailers) fails the tunnel; absent or 0 is fine. */
    private boolean checkGrpcStatus(ChannelHandlerContext ctx, Http2Headers h) {
        CharSequence s = h.get(GrpcProtocol.GRPC_STATUS);
        if (s == null) {
            return true;
        }
        int status = parse(s);
        if (status == GrpcProtocol.STATUS_OK) {
            return true;
        }
        fail(ctx, new GrpcStatusException(200, status, message(h)));
        return false;
    }

    private static String message(Http2Headers h) {
        CharSequence m = h.get(GrpcProtocol.GRPC_MESSAGE);
        return m == null ? null : GrpcProtocol.percentDecode(m.toString());
    }

    private static int parse(CharSequence s) {
        if (s == null) {
            return -1;
        }
        try {
            return Integer.parseInt(s.toString().trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        if (failed) {
            return;
        }
        failed = true;
        ctx.fireExceptionCaught(cause);
        ctx.close();
    }

    private void remoteEnded(ChannelHandlerContext ctx) {
        if (inputShut || failed) {
            return;
        }
        inputShut = true;
        ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    }

    /**
     * A RST_STREAM other than NO_ERROR or CANCEL (the ordinary ends of a call) is reported as a
     * {@link dev.tunnelwire.TunnelException} before Netty closes the stream channel.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame reset && !failed && reset.errorCode() != Http2Error.NO_ERROR.code()
                && reset.errorCode() != Http2Error.CANCEL.code()) {
            Http2Error error = Http2Error.valueOf(reset.errorCode());
            failed = true;
            ctx.fireExceptionCaught(new dev.tunnelwire.TunnelException("gRPC stream reset by the peer: "
                    + (error == null ? "error code " + reset.errorCode() : error.name())));
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf) {
            if (outputShut) {
                buf.release();
                promise.tryFailure(new ClosedChannelException());
                return;
            }
            ctx.write(new DefaultHttp2DataFrame(buf, false), promise);
        } else if (msg == Tunnels.SHUTDOWN_OUTPUT) {
            if (outputShut) {
                promise.trySuccess();
                return;
            }
            outputShut = true;
            ctx.write(client ? new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true)
                    : trailers(GrpcProtocol.STATUS_OK, null), promise);
        } else if (msg instanceof GunAbort abort) {
            promise.trySuccess();
            if (!client && !outputShut && ctx.channel().isActive()) {
                outputShut = true;
                ctx.write(trailers(abort.grpcStatus(), abort.message()));
            }
            ctx.flush();
            ctx.close();
        } else {
            ctx.write(msg, promise);
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (!client && !outputShut && ctx.channel().isActive()) {
            outputShut = true;
            ctx.write(trailers(GrpcProtocol.STATUS_OK, null));
            ctx.flush();
        }
        ctx.close(promise);
    }
}
