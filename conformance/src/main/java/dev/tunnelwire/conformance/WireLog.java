package dev.tunnelwire.conformance;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * What happened during one case, in order, Autobahn style: {@code TO}/{@code RO} raw octets sent to / received from
 * the implementation (hex), {@code TF}/{@code RF} decoded frames or messages, {@code APP} what the implementation's
 * application saw or did, {@code NOTE} engine remarks. Times are milliseconds since the case started.
 */
public final class WireLog {

    /** One entry. */
    public record Entry(long t, String kind, String text) {
    }

    private static final int MAX_HEX_BYTES = 4096;
    private final long start = System.nanoTime();
    private final List<Entry> entries = new ArrayList<>();

    public synchronized void octets(boolean sent, byte[] b, int off, int len) {
        String hex = HexFormat.of().formatHex(b, off, off + Math.min(len, MAX_HEX_BYTES));
        add(sent ? "TO" : "RO", "(" + len + ") " + hex + (len > MAX_HEX_BYTES ? "..." : ""));
    }

    public synchronized void frame(boolean sent, String text) {
        add(sent ? "TF" : "RF", text);
    }

    public synchronized void app(String text) {
        add("APP", text);
    }

    public synchronized void note(String text) {
        add("NOTE", text);
    }

    private void add(String kind, String text) {
        entries.add(new Entry((System.nanoTime() - start) / 1_000_000, kind, text));
    }

    public synchronized List<Entry> entries() {
        return List.copyOf(entries);
    }

    @Override
    public synchronized String toString() {
        StringBuilder sb = new StringBuilder();
        for (Entry e : entries) {
            sb.append(String.format("%6d %-4s %s%n", e.t(), e.kind(), e.text()));
        }
        return sb.toString();
    }
}
