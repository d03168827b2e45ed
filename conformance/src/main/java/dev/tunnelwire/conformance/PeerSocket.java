package dev.tunnelwire.conformance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Arrays;

/**
 * The engine's end of the connection to the implementation under test: a blocking loopback socket with a receive
 * buffer, so expectations can read exactly what they need and leave the rest for the next step. Every byte in and
 * out is written to the {@link WireLog}.
 */
public final class PeerSocket implements AutoCloseable {

    /** How the connection ended, as seen by a read. */
    public enum End { OPEN, EOF, RESET }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final WireLog log;
    private byte[] buf = new byte[0];
    private End end = End.OPEN;

    public PeerSocket(Socket socket, WireLog log) throws IOException {
        this.socket = socket;
        socket.setTcpNoDelay(true);
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        this.log = log;
    }

    public Socket socket() {
        return socket;
    }

    public WireLog log() {
        return log;
    }

    public void write(byte[] b) throws IOException {
        log.octets(true, b, 0, b.length);
        out.write(b);
        out.flush();
    }

    /** Bytes received and not consumed yet. */
    public int buffered() {
        return buf.length;
    }

    public End end() {
        return end;
    }

    /**
     * Reads until at least {@code n} bytes are buffered or the deadline passes or the connection ends.
     *
     * @return whether {@code n} bytes are available
     */
    public boolean fill(int n, long deadlineNanos) throws IOException {
        while (buf.length < n) {
            if (!readSome(deadlineNanos)) {
                return false;
            }
        }
        return true;
    }

    /** Reads once (waiting until the deadline); false on timeout or end of stream. */
    public boolean readSome(long deadlineNanos) throws IOException {
        if (end != End.OPEN) {
            return false;
        }
        long left = (deadlineNanos - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            return false;
        }
        socket.setSoTimeout((int) Math.max(1, Math.min(left, Integer.MAX_VALUE)));
        byte[] chunk = new byte[65536];
        int r;
        try {
            r = in.read(chunk);
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            end = End.RESET;
            log.note("connection reset by the implementation (" + e.getMessage() + ")");
            return false;
        }
        if (r < 0) {
            end = End.EOF;
            log.note("end of stream from the implementation (FIN)");
            return false;
        }
        log.octets(false, chunk, 0, r);
        byte[] nb = Arrays.copyOf(buf, buf.length + r);
        System.arraycopy(chunk, 0, nb, buf.length, r);
        buf = nb;
        return true;
    }

    /** Consumes and returns the first {@code n} buffered bytes. */
    public byte[] take(int n) {
        byte[] head = Arrays.copyOf(buf, n);
        buf = Arrays.copyOfRange(buf, n, buf.length);
        return head;
    }

    /** Returns the first {@code n} buffered bytes without consuming them. */
    public byte[] peek(int n) {
        return Arrays.copyOf(buf, Math.min(n, buf.length));
    }

    /** Index of {@code pattern} in the buffer, or -1. */
    public int indexOf(byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= buf.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (buf[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Reads until {@code pattern} is buffered; returns its index or -1 (timeout, end, or more than max bytes). */
    public int fillUntil(byte[] pattern, int max, long deadlineNanos) throws IOException {
        while (true) {
            int i = indexOf(pattern);
            if (i >= 0) {
                return i;
            }
            if (buf.length > max || !readSome(deadlineNanos)) {
                return -1;
            }
        }
    }

    /** Reads and discards until the implementation ends the connection or the deadline passes. */
    public End awaitEnd(long deadlineNanos) throws IOException {
        while (end == End.OPEN) {
            if (!readSome(deadlineNanos) && end == End.OPEN && System.nanoTime() >= deadlineNanos) {
                break;
            }
        }
        return end;
    }

    public void shutdownOutput() throws IOException {
        log.note("engine half-closes (FIN)");
        socket.shutdownOutput();
    }

    /** Closes with an RST (SO_LINGER 0). */
    public void reset() throws IOException {
        log.note("engine resets the connection (RST)");
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    static String printable(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            int c = x & 0xFF;
            if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c >= 0x20 && c < 0x7F) {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.toString();
    }

    static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(a.length + b.length);
        o.writeBytes(a);
        o.writeBytes(b);
        return o.toByteArray();
    }
}
