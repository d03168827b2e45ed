package dev.tunnelwire.interop;

import dev.tunnelwire.testkit.Digests;

import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What every cell does through the tunnel to the echo target:
 * <ol>
 *   <li>one tunnel: {@value #PING_ROUNDS} rounds of small-message ping-pong, then {@value #BULK_BYTES} random bytes
 *       each way (written while the echo is read back) checked by SHA-256, then a clean close: our output is
 *       half-closed and the end of the echo stream must follow with no stray bytes;</li>
 *   <li>{@value #CONCURRENT} tunnels at once, each doing the same with {@value #CONCURRENT_BULK_BYTES} bytes.</li>
 * </ol>
 */
final class Workload {

    static final int PING_ROUNDS = 8;
    static final int BULK_BYTES = 4 << 20;
    static final int CONCURRENT = 8;
    static final int CONCURRENT_BULK_BYTES = 512 << 10;
    static final int CHUNK = 16 << 10;
    static final long READ_TIMEOUT_MILLIS = 30_000;
    static final long CLOSE_TIMEOUT_MILLIS = 10_000;

    /**
     * Opens one tunnel to the echo target through the cell's path. {@code first} are the tunnel's first bytes: the
     * opener sends them before anything else, in the transport handshake where the transport can (early data).
     */
    @FunctionalInterface
    interface Opener {
        Conn open(byte[] first) throws Exception;
    }

    /**
     * @param bytes      bytes moved through tunnels, both directions counted
     * @param bulkMillis time of the single tunnel's bulk transfer (4 MiB each way)
     */
    record Outcome(long bytes, long bulkMillis) {
        /** Throughput of the single-tunnel bulk transfer, MB/s counting both directions. */
        double bulkMegabytesPerSecond() {
            return bulkMillis <= 0 ? 0 : 2.0 * BULK_BYTES / 1e6 / (bulkMillis / 1000.0);
        }
    }

    private Workload() {
    }

    static Outcome run(Opener opener, ExecutorService pool, long seed) throws Exception {
        long[] bulkMillis = new long[1];
        long bytes;
        bytes = exercise(opener, BULK_BYTES, seed, pool, bulkMillis, "tunnel 1");
        List<Future<Long>> all = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
            int n = i;
            all.add(pool.submit(() -> {
                String name = "concurrent tunnel " + (n + 1) + "/" + CONCURRENT;
                return exercise(opener, CONCURRENT_BULK_BYTES, seed + 1 + n, pool, null, name);
            }));
        }
        for (Future<Long> f : all) {
            try {
                bytes += f.get(120, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                all.forEach(x -> x.cancel(true));
                throw e.getCause() instanceof Exception ex ? ex : e;
            } catch (TimeoutException e) {
                all.forEach(x -> x.cancel(true));
                throw new TimeoutException("concurrent tunnels not done after 120 s");
            }
        }
        return new Outcome(bytes, bulkMillis[0]);
    }

    /**
     * Opens a tunnel (its first ping-pong message as the first payload) and runs ping-pong, bulk and a clean close on
     * it; returns the bytes moved (both directions).
     */
    static long exercise(Opener opener, int bulk, long seed, ExecutorService pool, long[] bulkMillis, String name)
            throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] first = ping(r, 0);
        Conn c;
        try {
            c = opener.open(first);
        } catch (Exception e) {
            throw new IOException(name + ": cannot open the tunnel: " + e.getMessage(), e);
        }
        try (c) {
            return exercise(c, first, r, bulk, seed, pool, bulkMillis, name);
        }
    }

    private static byte[] ping(SplittableRandom r, int round) {
        byte[] msg = new byte[12 + r.nextInt(200)];
        r.nextBytes(msg);
        byte[] head = Conn.ascii("ping " + round + " ");
        System.arraycopy(head, 0, msg, 0, head.length);
        return msg;
    }

    private static long exercise(Conn c, byte[] first, SplittableRandom r, int bulk, long seed, ExecutorService pool,
                                 long[] bulkMillis, String name) throws Exception {
        long moved = 0;
        for (int i = 0; i < PING_ROUNDS; i++) {
            byte[] msg = i == 0 ? first : ping(r, i);
            if (i > 0) {
                c.write(msg, 0, msg.length);
            }
            byte[] back = new byte[msg.length];
            try {
                c.readFully(back, 0, back.length, READ_TIMEOUT_MILLIS);
            } catch (IOException e) {
                throw new IOException(name + ": ping-pong round " + (i + 1) + " (" + msg.length + " bytes): "
                        + e.getMessage(), e);
            }
            if (!Arrays.equals(msg, back)) {
                throw new AssertionError(name + ": ping-pong round " + (i + 1) + ": echo differs: sent "
                        + HexFormat.of().formatHex(msg) + ", got " + HexFormat.of().formatHex(back));
            }
            moved += 2L * msg.length;
        }

        byte[] data = Digests.randomBytes(bulk, seed * 31 + 7);
        byte[] expected = Digests.sha256(data);
        long t0 = System.nanoTime();
        Future<?> writer = pool.submit(() -> {
            for (int off = 0; off < data.length; off += CHUNK) {
                c.write(data, off, Math.min(CHUNK, data.length - off));
            }
            return null;
        });
        MessageDigest md = Digests.sha256();
        byte[] buf = new byte[64 << 10];
        long got = 0;
        try {
            while (got < bulk) {
                int n = c.read(buf, 0, (int) Math.min(buf.length, bulk - got), READ_TIMEOUT_MILLIS);
                if (n < 0) {
                    throw new IOException("end of stream after " + got + " of " + bulk + " echoed bytes");
                }
                md.update(buf, 0, n);
                got += n;
            }
            writer.get(READ_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (IOException | ExecutionException | TimeoutException e) {
            writer.cancel(true);
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new IOException(name + ": bulk " + bulk + " bytes each way, " + got + " echoed so far: " + cause,
                    cause);
        }
        if (bulkMillis != null) {
            bulkMillis[0] = Math.max(1, (System.nanoTime() - t0) / 1_000_000);
        }
        byte[] actual = md.digest();
        if (!Arrays.equals(expected, actual)) {
            throw new AssertionError(name + ": SHA-256 of the " + bulk + " echoed bytes differs: expected "
                    + HexFormat.of().formatHex(expected) + ", got " + HexFormat.of().formatHex(actual));
        }
        moved += 2L * bulk;

        c.shutdownOutput();
        try {
            int n = c.read(buf, 0, buf.length, CLOSE_TIMEOUT_MILLIS);
            if (n >= 0) {
                throw new AssertionError(name + ": " + n + " unexpected bytes after our half-close, instead of "
                        + "the end of the stream: " + HexFormat.of().formatHex(buf, 0, Math.min(n, 64)));
            }
        } catch (IOException e) {
            throw new IOException(name + ": no clean close within " + CLOSE_TIMEOUT_MILLIS
                    + " ms after our half-close: " + e.getMessage(), e);
        }
        return moved;
    }
}
