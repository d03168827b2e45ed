package dev.tunnelwire.proxy.relay;

import dev.tunnelwire.internal.PrefixFirstWrite;
import dev.tunnelwire.internal.ServerSession;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.HandlerContext;
import dev.tunnelwire.proxy.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * The GOST relay server ({@code relay}): reads {@code 01 | CMD | FEALEN | FEATURES}, checks UserAuth, connects to
 * the Addr feature's destination (or the forward target) and relays. Statuses as gost 3.2.6: {@code 02} bad
 * credentials, {@code 01} bad request (no address, UDP, ASSOCIATE, unknown command), {@code 03} BIND (disabled),
 * {@code 07} (forward mode: {@code 06}) when the destination cannot be reached; error responses are immediate and
 * close the connection. The {@code OK} response goes with the destination's first bytes unless {@code nodelay}.
 * Bytes after the request are the tunnel's first data. Unknown feature types are skipped (as relay v0.6+).
 */
public final class RelayHandler implements Handler {

    public static final String PROTOCOL = "relay";

    private final RelayHandlerOptions options;

    public RelayHandler(RelayHandlerOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public String protocol() {
        return PROTOCOL;
    }

    @Override
    public void init(Channel tunnel, HandlerContext context) {
        tunnel.pipeline().addLast("tw-relay-server", new Decoder(options, context,
                ServerSession.startTimeout(tunnel, context, PROTOCOL)));
    }

    /** Reads one request (state machine: header, then features), then hands over to the session. */
    static final class Decoder extends ByteToMessageDecoder {
        private final RelayHandlerOptions options;
        private final HandlerContext hc;
        private final ScheduledFuture<?> timeout;
        private boolean failed;

        Decoder(RelayHandlerOptions options, HandlerContext hc, ScheduledFuture<?> timeout) {
            this.options = options;
            this.hc = hc;
            this.timeout = timeout;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            if (failed) {
                in.skipBytes(in.readableBytes());
                return;
            }
            if (in.readableBytes() < RelayProtocol.HEADER_LENGTH) {
                return;
            }
            int start = in.readerIndex();
            int featuresLength = in.getUnsignedShort(start + 2);
            if (in.readableBytes() < RelayProtocol.HEADER_LENGTH + featuresLength) {
                return;
            }
            timeout.cancel(false);
            int version = in.getUnsignedByte(start);
            int cmd = in.getUnsignedByte(start + 1);
            ByteBuf features = in.slice(start + RelayProtocol.HEADER_LENGTH, featuresLength);
            in.skipBytes(RelayProtocol.HEADER_LENGTH + featuresLength);
            if (version != RelayProtocol.VERSION) {
                fail(ctx, -1, "bad version " + version);
                return;
            }
            Request req;
            try {
                req = Request.parse(cmd, features);
            } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                fail(ctx, RelayProtocol.STATUS_BAD_REQUEST, "malformed request: " + e.getMessage());
                return;
            }
            if (options.authenticator() != null && (req.user == null
                    || !options.authenticator().authenticate(req.user, req.password))) {
                fail(ctx, RelayProtocol.STATUS_UNAUTHORIZED,
                        "authentication failed" + (req.user == null ? " (no credentials)" : " for " + req.user));
                return;
            }
            int command = cmd & 0x0F;
            if (command == RelayProtocol.CMD_BIND) {
                fail(ctx, RelayProtocol.STATUS_FORBIDDEN, "BIND is not enabled");
                return;
            }
            if ((command != RelayProtocol.CMD_CONNECT && command != 0) || req.udp) {
                fail(ctx, RelayProtocol.STATUS_BAD_REQUEST, "command not supported: 0x" + Integer.toHexString(cmd));
                return;
            }
            Destination dst = options.target() != null ? options.target() : req.address;
            if (dst == null) {
                fail(ctx, RelayProtocol.STATUS_BAD_REQUEST, "no destination address");
                return;
            }
            boolean forward = options.target() != null;
            ServerSession.connect(ctx, hc, PROTOCOL, dst, true, new ServerSession.Replies() {
                @Override
                public void connected(Channel inbound) {
                    ByteBuf ok = RelayProtocol.response(inbound.alloc(), RelayProtocol.STATUS_OK);
                    if (options.nodelay()) {
                        inbound.writeAndFlush(ok);
                    } else {
                        inbound.pipeline().addLast(PrefixFirstWrite.NAME, new PrefixFirstWrite(ok));
                    }
                }

                @Override
                public void failed(Channel inbound, Throwable cause) {
                    int status = forward ? RelayProtocol.STATUS_HOST_UNREACHABLE
                            : RelayProtocol.STATUS_NETWORK_UNREACHABLE;
                    inbound.writeAndFlush(RelayProtocol.response(inbound.alloc(), status))
                            .addListener(ChannelFutureListener.CLOSE);
                }
            });
            ctx.pipeline().remove(this);
        }

        private void fail(ChannelHandlerContext ctx, int status, String why) {
            failed = true;
            ServerSession.warn(hc, ctx.channel(), PROTOCOL, why, null);
            ctx.channel().config().setAutoRead(false);
            if (status < 0) {
                ctx.close();
            } else {
                ctx.writeAndFlush(RelayProtocol.response(ctx.alloc(), status)).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ServerSession.warn(hc, ctx.channel(), PROTOCOL, "handshake failed", cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            timeout.cancel(false);
            super.channelInactive(ctx);
        }
    }

    /** The parsed features of a request. */
    record Request(String user, String password, Destination address, boolean udp) {

        static Request parse(int cmd, ByteBuf f) {
            String user = null;
            String password = null;
            Destination address = null;
            boolean udp = (cmd & RelayProtocol.FLAG_UDP) != 0;
            while (f.isReadable()) {
                int type = f.readUnsignedByte();
                int len = f.readUnsignedShort();
                ByteBuf d = f.readSlice(len);
                switch (type) {
                    case RelayProtocol.FEATURE_USER_AUTH -> {
                        user = d.readCharSequence(d.readUnsignedByte(), StandardCharsets.UTF_8).toString();
                        password = d.readCharSequence(d.readUnsignedByte(), StandardCharsets.UTF_8).toString();
                    }
                    case RelayProtocol.FEATURE_ADDR -> address = parseAddress(d);
                    case RelayProtocol.FEATURE_NETWORK -> udp |= d.readUnsignedShort() != RelayProtocol.NETWORK_TCP;
                    default -> {
                        // unknown or unused (Tunnel) feature: skipped
                    }
                }
            }
            return new Request(user, password, address, udp);
        }

        private static Destination parseAddress(ByteBuf d) {
            int atyp = d.readUnsignedByte();
            String host;
            switch (atyp) {
                case RelayProtocol.ATYP_IPV4, RelayProtocol.ATYP_IPV6 -> {
                    byte[] ip = new byte[atyp == RelayProtocol.ATYP_IPV4 ? 4 : 16];
                    d.readBytes(ip);
                    host = io.netty.util.NetUtil.bytesToIpAddress(ip);
                }
                case RelayProtocol.ATYP_DOMAIN -> {
                    int n = d.readUnsignedByte();
                    host = d.readCharSequence(n, StandardCharsets.UTF_8).toString();
                }
                default -> throw new IllegalArgumentException("unknown address type " + atyp);
            }
            int port = d.readUnsignedShort();
            if (host.isEmpty()) {
                return null;
            }
            return new Destination(host, port);
        }
    }

    static ProxyException error(int status) {
        return new ProxyException(PROTOCOL, status, RelayProtocol.statusText(status));
    }
}
