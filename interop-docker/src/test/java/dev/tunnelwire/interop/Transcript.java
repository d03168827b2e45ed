package dev.tunnelwire.interop;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The beginning of one proxied connection: the first bytes of each direction and the events (FIN, close, errors),
 * in order, with times relative to the accept.
 */
final class Transcript {

    /** Direction of a chunk, seen from the proxy: towards the server side or towards the client side. */
    enum Dir {
        TO_SERVER("client → server"), TO_CLIENT("server → client");

        final String label;

        Dir(String label) {
            this.label = label;
        }
    }

    /** One recorded read or event. {@code data} is null for events. */
    record Entry(Dir dir, long micros, byte[] data, String event) {
    }

    private final int connection;
    private final long start = System.nanoTime();
    private final List<Entry> entries = new ArrayList<>();
    private final long[] captured = new long[2];
    private final long[] total = new long[2];

    Transcript(int connection) {
        this.connection = connection;
    }

    int connection() {
        return connection;
    }

    /** {@link System#nanoTime()} at the accept: the origin of the entries' times. */
    long startNanos() {
        return start;
    }

    synchronized void bytes(Dir dir, ByteBuf b, int limit) {
        int n = b.readableBytes();
        total[dir.ordinal()] += n;
        int take = (int) Math.min(n, limit - captured[dir.ordinal()]);
        if (take > 0) {
            byte[] copy = new byte[take];
            b.getBytes(b.readerIndex(), copy);
            captured[dir.ordinal()] += take;
            entries.add(new Entry(dir, micros(), copy, null));
        }
    }

    synchronized void event(Dir dir, String what) {
        entries.add(new Entry(dir, micros(), null, what));
    }

    synchronized List<Entry> entries() {
        return List.copyOf(entries);
    }

    synchronized long total(Dir dir) {
        return total[dir.ordinal()];
    }

    private long micros() {
        return (System.nanoTime() - start) / 1000;
    }

    /** A hex dump with an ASCII column, 16 bytes a line. */
    static String hexdump(byte[] data) {
        StringBuilder sb = new StringBuilder();
        HexFormat hex = HexFormat.of();
        for (int off = 0; off < data.length; off += 16) {
            int end = Math.min(off + 16, data.length);
            sb.append(String.format("%04x  ", off));
            for (int i = off; i < off + 16; i++) {
                sb.append(i < end ? hex.toHexDigits(data[i]) + " " : "   ");
                if (i == off + 7) {
                    sb.append(' ');
                }
            }
            sb.append(" |");
            for (int i = off; i < end; i++) {
                int c = data[i] & 0xff;
                sb.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
            }
            sb.append("|\n");
        }
        return sb.toString();
    }

    /** The transcript as text: one block per entry. */
    String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("connection #").append(connection).append(": ")
                .append(total(Dir.TO_SERVER)).append(" bytes client → server, ")
                .append(total(Dir.TO_CLIENT)).append(" bytes server → client (first ")
                .append(RecordingProxy.CAPTURE_BYTES).append(" of each recorded)\n");
        for (Entry e : entries()) {
            sb.append(String.format("+%d.%03d ms  %s  ", e.micros() / 1000, e.micros() % 1000, e.dir().label));
            if (e.data() != null) {
                sb.append(e.data().length).append(" bytes\n").append(hexdump(e.data()));
            } else {
                sb.append(e.event()).append('\n');
            }
        }
        return sb.toString();
    }
}
