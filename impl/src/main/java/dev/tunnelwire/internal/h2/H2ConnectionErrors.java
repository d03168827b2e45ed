package dev.tunnelwire.internal.h2;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http2.Http2Exception;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.IOException;

/**
 * The last handler of an HTTP/2 connection's pipeline (server or client): an exception that reaches it ends the
 * connection with exactly one log line instead of Netty's "reached the tail of the pipeline" warning with a stack
 * trace per event.
 *
 * <ul>
 *   <li>the peer's protocol errors (HTTP/2 connection errors, TLS errors, undecodable input): one INFO line with the
 *       remote address, the side and the cause's message, no stack trace;</li>
 *   <li>network errors ({@link IOException}: reset by peer, broken pipe): DEBUG;</li>
 *   <li>anything else is our bug: WARN with the stack trace.</li>
 * </ul>
 * Later exceptions of the same connection are logged at DEBUG only. The HTTP/2 codec has already answered an
 * HTTP/2 error (GOAWAY with its code, then close) by the time the exception gets here, so for those this handler only
 * logs (closing again would send a GOAWAY(NO_ERROR) ahead of the codec's); any other error closes the connection.
 * Holds no buffers.
 */
@ChannelHandler.Sharable
public final class H2ConnectionErrors extends ChannelInboundHandlerAdapter {

    public static final String NAME = "tw-h2-errors";
    private static final Logger log = LoggerFactory.getLogger(H2ConnectionErrors.class);
    private static final io.netty.util.AttributeKey<Boolean> LOGGED =
            io.netty.util.AttributeKey.valueOf("tw-h2-error-logged");

    private final String side;

    /** @param side what the connection is, for the log line (e.g. "grpc listener 127.0.0.1:8443") */
    public H2ConnectionErrors(String side) {
        this.side = side;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        boolean first = ctx.channel().attr(LOGGED).setIfAbsent(Boolean.TRUE) == null;
        if (!first) {
            log.debug("{}: further error on the connection with {}: {}", side, ctx.channel().remoteAddress(),
                    describe(cause));
        } else if (isPeerError(cause)) {
            log.info("{}: connection with {} closed: {}", side, ctx.channel().remoteAddress(), describe(cause));
        } else if (isNetworkError(cause)) {
            log.debug("{}: connection with {} failed: {}", side, ctx.channel().remoteAddress(), describe(cause));
        } else {
            log.warn("{}: connection with {} failed unexpectedly", side, ctx.channel().remoteAddress(), cause);
        }
        if (!isHttp2Error(cause)) {
            ctx.close();
        }
    }

    static boolean isHttp2Error(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof Http2Exception) {
                return true;
            }
        }
        return false;
    }

    static boolean isPeerError(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof Http2Exception || c instanceof SSLException) {
                return true;
            }
        }
        return t instanceof DecoderException;
    }

    static boolean isNetworkError(Throwable t) {
        return t instanceof IOException;
    }

    static String describe(Throwable t) {
        Throwable root = t;
        while (root instanceof DecoderException && root.getCause() != null) {
            root = root.getCause();
        }
        String m = root.getMessage();
        return root.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m.strip());
    }
}
