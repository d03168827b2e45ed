package dev.tunnelwire.proxy.vless;

import dev.tunnelwire.internal.PrefixFirstWrite;
import dev.tunnelwire.internal.ServerSession;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.HandlerContext;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * The VLESS server (no flow): reads the request header, checks the user id against every configured user in
 * constant time, connects to the destination and relays; {@code 00 00} is sent with the destination's first bytes.
 * Bytes after the header are the first payload. A wrong version, unknown user, non-empty addons (flow), a command
 * other than TCP or a malformed address close the connection without a reply, as sing-box and Xray do; so does a
 * destination that cannot be reached.
 */
public final class VlessHandler implements Handler {

    public static final String PROTOCOL = "vless";

    private final byte[][] users;

    public VlessHandler(VlessHandlerOptions options) {
        this.users = options.users().stream().map(u -> Vless.bytes(Vless.userId(u))).toArray(byte[][]::new);
    }

    @Override
    public String protocol() {
        return PROTOCOL;
    }

    @Override
    public void init(Channel tunnel, HandlerContext context) {
        tunnel.pipeline().addLast("tw-vless-server",
                new Decoder(users, context, ServerSession.startTimeout(tunnel, context, PROTOCOL)));
    }

    /** Whether {@code id} is one of {@code users}; looks at every user, so the time does not depend on which. */
    static boolean known(byte[][] users, byte[] id) {
        boolean found = false;
        for (byte[] u : users) {
            found |= MessageDigest.isEqual(u, id);
        }
        return found;
    }

    /** Parses the request once it is complete (version, id, addons, command, port, address). */
    static final class Decoder extends ByteToMessageDecoder {
        private final byte[][] users;
        private final HandlerContext hc;
        private final ScheduledFuture<?> timeout;
        private boolean failed;

        Decoder(byte[][] users, HandlerContext hc, ScheduledFuture<?> timeout) {
            this.users = users;
            this.hc = hc;
            this.timeout = timeout;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            if (failed) {
                in.skipBytes(in.readableBytes());
                return;
            }
            int r = in.readerIndex();
            int n = in.readableBytes();
            if (n < 1) {
                return;
            }
            if (in.getUnsignedByte(r) != Vless.VERSION) {
                fail(ctx, "unknown version " + in.getUnsignedByte(r));
                return;
            }
            if (n < 18) {
                return;
            }
            byte[] id = new byte[16];
            in.getBytes(r + 1, id);
            if (!known(users, id)) {
                fail(ctx, "unknown user id");
                return;
            }
            int addons = in.getUnsignedByte(r + 17);
            if (addons != 0) {
                fail(ctx, "flow (addons) not supported");
                return;
            }
            int p = r + 18;
            if (n < p - r + 4) {
                return;
            }
            int cmd = in.getUnsignedByte(p);
            if (cmd != Vless.CMD_TCP) {
                fail(ctx, "command not supported: " + cmd);
                return;
            }
            int port = in.getUnsignedShort(p + 1);
            int atyp = in.getUnsignedByte(p + 3);
            int a = p + 4;
            String host;
            int end;
            switch (atyp) {
                case Vless.ATYP_IPV4, Vless.ATYP_IPV6 -> {
                    int len = atyp == Vless.ATYP_IPV4 ? 4 : 16;
                    if (in.writerIndex() < a + len) {
                        return;
                    }
                    byte[] ip = new byte[len];
                    in.getBytes(a, ip);
                    host = NetUtil.bytesToIpAddress(ip);
                    end = a + len;
                }
                case Vless.ATYP_DOMAIN -> {
                    if (in.writerIndex() < a + 1) {
                        return;
                    }
                    int len = in.getUnsignedByte(a);
                    if (in.writerIndex() < a + 1 + len) {
                        return;
                    }
                    host = in.toString(a + 1, len, StandardCharsets.UTF_8);
                    end = a + 1 + len;
                    if (host.isEmpty()) {
                        fail(ctx, "empty domain");
                        return;
                    }
                }
                default -> {
                    fail(ctx, "unknown address type " + atyp);
                    return;
                }
            }
            in.readerIndex(end);
            timeout.cancel(false);
            ServerSession.connect(ctx, hc, PROTOCOL, new Destination(host, port), true, new ServerSession.Replies() {
                @Override
                public void connected(Channel inbound) {
                    inbound.pipeline().addLast(PrefixFirstWrite.NAME,
                            new PrefixFirstWrite(inbound.alloc().buffer(2).writeShort(0)));
                }

                @Override
                public void failed(Channel inbound, Throwable cause) {
                    inbound.close();
                }
            });
            ctx.pipeline().remove(this);
        }

        private void fail(ChannelHandlerContext ctx, String why) {
            failed = true;
            timeout.cancel(false);
            ServerSession.warn(hc, ctx.channel(), PROTOCOL, why, null);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            timeout.cancel(false);
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ServerSession.warn(hc, ctx.channel(), PROTOCOL, "handshake failed", cause);
            ctx.close();
        }
    }
}
