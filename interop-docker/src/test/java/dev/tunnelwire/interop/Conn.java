package dev.tunnelwire.interop;

import dev.tunnelwire.Tunnels;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A blocking byte stream the workload drives, whichever side is ours: a Netty tunnel channel from our dialer
 * ({@link #of(Channel)}) or a socket into the peer client's local entry ({@link #socket}).
 */
interface Conn extends AutoCloseable {

    /** Writes all of {@code b[off, off+len)} (returns once it is handed to the transport). */
    void write(byte[] b, int off, int len) throws IOException;

    /** Reads up to {@code len} bytes, waiting at most {@code timeoutMillis}; -1 at end of stream. */
    int read(byte[] b, int off, int len, long timeoutMillis) throws IOException;

    /** Half-closes (or, where the transport has no half-close, closes) the output. */
    void shutdownOutput() throws IOException;

    @Override
    void close();

    /** Writes {@code first} and returns this connection. */
    default Conn writeFirst(byte[] first) throws IOException {
        try {
            write(first, 0, first.length);
            return this;
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Reads exactly {@code len} bytes or throws. */
    default void readFully(byte[] b, int off, int len, long timeoutMillis) throws IOException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (len > 0) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                throw new SocketTimeoutException("read timed out with " + len + " bytes still expected");
            }
            int n = read(b, off, len, left);
            if (n < 0) {
                throw new EOFException("end of stream with " + len + " bytes still expected");
            }
            off += n;
            len -= n;
        }
    }

    /** A socket to a TCP entry (gost's tcp forward service, Xray's tunnel inbound). */
    static Conn socket(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return new SocketConn(s);
    }

    /**
     * A socket to a SOCKS5 entry (no authentication) with a CONNECT to {@code target} done; the reply must be
     * success.
     */
    static Conn socks5(int port, InetSocketAddress target) throws IOException {
        SocketConn c = (SocketConn) socket(port);
        try {
            OutputStream out = c.socket.getOutputStream();
            out.write(new byte[] {5, 1, 0});
            out.flush();
            byte[] greet = new byte[2];
            c.readFully(greet, 0, 2, 10_000);
            if (greet[0] != 5 || greet[1] != 0) {
                throw new IOException("SOCKS5 entry refused no-auth: " + (greet[0] & 0xff) + " " + (greet[1] & 0xff));
            }
            byte[] ip = target.getAddress().getAddress();
            byte[] req = new byte[6 + ip.length];
            req[0] = 5;
            req[1] = 1;
            req[2] = 0;
            req[3] = (byte) (ip.length == 4 ? 1 : 4);
            System.arraycopy(ip, 0, req, 4, ip.length);
            req[4 + ip.length] = (byte) (target.getPort() >> 8);
            req[5 + ip.length] = (byte) target.getPort();
            out.write(req);
            out.flush();
            byte[] head = new byte[4];
            c.readFully(head, 0, 4, 15_000);
            if (head[1] != 0) {
                throw new IOException("SOCKS5 CONNECT to " + target + " failed with reply " + (head[1] & 0xff));
            }
            int rest = switch (head[3]) {
                case 1 -> 4 + 2;
                case 4 -> 16 + 2;
                case 3 -> {
                    byte[] l = new byte[1];
                    c.readFully(l, 0, 1, 5000);
                    yield (l[0] & 0xff) + 2;
                }
                default -> throw new IOException("bad SOCKS5 address type " + head[3]);
            };
            c.readFully(new byte[rest], 0, rest, 5000);
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Wraps a tunnel channel; must be called before any data is read from it (e.g. in the tunnel initializer). */
    static NettyConn of(Channel tunnel) {
        NettyConn c = new NettyConn(tunnel);
        tunnel.pipeline().addLast("interop-conn", c.handler);
        return c;
    }

    /** Blocking adapter over a socket. */
    final class SocketConn implements Conn {
        final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        SocketConn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            out.flush();
        }

        @Override
        public int read(byte[] b, int off, int len, long timeoutMillis) throws IOException {
            socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeoutMillis)));
            return in.read(b, off, len);
        }

        @Override
        public void shutdownOutput() throws IOException {
            socket.shutdownOutput();
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    /**
     * Blocking adapter over a Netty tunnel channel: reads are copied into a queue (and released) as they arrive;
     * writes wait for the transport to take the bytes.
     */
    final class NettyConn implements Conn {
        private static final Object EOF = new Object();
        private final Channel channel;
        private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        private byte[] current;
        private int currentOff;
        private boolean eof;

        final ChannelInboundHandlerAdapter handler = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof ByteBuf b) {
                    try {
                        byte[] copy = new byte[b.readableBytes()];
                        b.readBytes(copy);
                        if (copy.length > 0) {
                            queue.add(copy);
                        }
                    } finally {
                        b.release();
                    }
                } else {
                    io.netty.util.ReferenceCountUtil.release(msg);
                    queue.add(new IOException("unexpected message on the tunnel: " + msg.getClass().getName()));
                }
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof ChannelInputShutdownEvent) {
                    queue.add(EOF);
                }
                ctx.fireUserEventTriggered(evt);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                queue.add(EOF);
                ctx.fireChannelInactive();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                queue.add(cause instanceof IOException io ? io : new IOException(cause));
                ctx.close();
            }
        };

        NettyConn(Channel channel) {
            this.channel = channel;
        }

        Channel channel() {
            return channel;
        }

        /**
         * Hands a copy to the channel; waits for the write to complete only while the channel is not writable
         * (backpressure), so small writes do not each cost a round trip through the event loop.
         */
        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            var f = channel.writeAndFlush(Unpooled.copiedBuffer(b, off, len));
            if (f.isDone() || channel.isWritable()) {
                if (f.isDone() && !f.isSuccess()) {
                    throw new IOException("write failed: " + f.cause(), f.cause());
                }
                return;
            }
            if (!f.awaitUninterruptibly(60, TimeUnit.SECONDS)) {
                throw new SocketTimeoutException("write of " + len + " bytes not done after 60 s");
            }
            if (!f.isSuccess()) {
                throw new IOException("write failed: " + f.cause(), f.cause());
            }
        }

        @Override
        public int read(byte[] b, int off, int len, long timeoutMillis) throws IOException {
            if (current == null) {
                if (eof) {
                    return -1;
                }
                Object o;
                try {
                    o = queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
                if (o == null) {
                    throw new SocketTimeoutException("no data within " + timeoutMillis + " ms");
                }
                if (o == EOF) {
                    eof = true;
                    return -1;
                }
                if (o instanceof IOException e) {
                    throw new IOException(e.getMessage(), e);
                }
                current = (byte[]) o;
                currentOff = 0;
            }
            int n = Math.min(len, current.length - currentOff);
            System.arraycopy(current, currentOff, b, off, n);
            currentOff += n;
            if (currentOff == current.length) {
                current = null;
            }
            return n;
        }

        @Override
        public void shutdownOutput() throws IOException {
            var f = Tunnels.shutdownOutput(channel);
            f.awaitUninterruptibly(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
