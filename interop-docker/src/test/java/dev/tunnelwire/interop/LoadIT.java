package dev.tunnelwire.interop;

import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.testkit.LoopbackServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The load tier (issue #16), tunnelwire against tunnelwire: for every transport and variant a long-lived listener
 * and one long-lived dialer (its pooled connections reused throughout), each tunnel relayed by the listener to an
 * echo server, and the way users load them:
 *
 * <ol>
 *   <li>three sequential bulk transfers on the same dialer ({@link #bulkBytes} each way, SHA-256 checked);</li>
 *   <li>{@value #CONCURRENT} concurrent bulk tunnels plus a probe tunnel exchanging 16 bytes every 100 ms: the
 *       probe keeps moving and its worst round trip stays under {@value #PROBE_BOUND_MILLIS} ms (no head-of-line
 *       stall; the figure is in the report);</li>
 *   <li>short tunnels opened, used and closed; tunnels reset in the middle of a transfer;</li>
 *   <li>a tunnel left idle, then used.</li>
 * </ol>
 * Every read has a deadline (a stall fails with what was still expected); afterwards the process's file descriptors
 * return to their baseline, and the leak detector (PARANOID, {@link LeakCheck}) finds nothing.
 *
 * <p>Sizes: reduced in {@code mvn verify}; {@code -Dload.full=true} ({@code scripts/load.sh}) runs 256 MiB
 * transfers, 1,000 short tunnels, 100 resets and an idle period past the peers' 30 s idle timeouts. The peers' side
 * of the tier (their clients and servers in long-lived processes) is not built yet: see the issue.
 */
class LoadIT {

    static final boolean FULL = Boolean.getBoolean("load.full");
    static final int CONCURRENT = 16;
    /**
     * The probe tunnel's worst round trip while the bulk tunnels run. A head-of-line stall (the control stream
     * that stopped moving) is unbounded; what is left is queueing behind up to 16 MiB of window per connection, paid
     * under PARANOID leak detection on a loaded 2-core CI machine: measured there 0.1-0.5 s on tcp/ws/httpupgrade and
     * 0.4-4.5 s on the HTTP/2 transports, which share one connection. Real latency figures come from the benchmark
     * (issue #21), not from this bound.
     */
    static final long PROBE_BOUND_MILLIS = 8_000;
    static final long READ_DEADLINE_MILLIS = 30_000;

    final long bulkBytes = FULL ? 256L << 20 : 8L << 20;
    final long concurrentBytes = FULL ? 32L << 20 : 1L << 20;
    final int shortTunnels = FULL ? 1_000 : 100;
    final int resets = FULL ? 100 : 10;
    final long idleMillis = FULL ? 70_000 : 2_000;

    private static TunnelRuntime loops;
    private static LoopbackServers echo;
    private static ExecutorService pool;
    private static Env env;
    private static final List<LoadReport.Row> ROWS = new ArrayList<>();
    private static final long T0 = System.nanoTime();

    /** The transports and variants, as the matrix's tunnelwire side configures them. */
    static List<Object[]> variants() {
        List<Object[]> v = new ArrayList<>();
        for (boolean tls : List.of(false, true)) {
            v.add(new Object[] {"tcp", Map.of(), tls});
            v.add(new Object[] {"ws", Map.of("path", "/ws"), tls});
            v.add(new Object[] {"httpupgrade", Map.of("path", "/hu"), tls});
            v.add(new Object[] {"v2rayhttp", Map.of("path", "/h"), tls});
            v.add(new Object[] {"grpc", Map.of("flavour", "gun", "serviceName", "svc"), tls});
            v.add(new Object[] {"grpc", Map.of("flavour", "gun", "serviceName", "svc", "multi", "true"), tls});
            v.add(new Object[] {"grpc", Map.of("flavour", "gost"), tls});
            v.add(new Object[] {tls ? "h2" : "h2c", Map.of(), tls});
            v.add(new Object[] {"pht", Map.of(), tls});
        }
        // V2Ray HTTP over cleartext HTTP/2 with prior knowledge (the TLS variant above is HTTP/2 by ALPN)
        v.add(new Object[] {"v2rayhttp", Map.of("path", "/h", "h2c", "true"), false});
        return v;
    }

    @BeforeAll
    static void start() throws Exception {
        loops = TunnelRuntime.create(2);
        echo = LoopbackServers.echo();
        pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "load-workload");
            t.setDaemon(true);
            return t;
        });
        env = new Env(loops, TransportRegistry.defaultRegistry(), echo.address(), pool);
    }

    @TestFactory
    Stream<DynamicTest> load() {
        List<DynamicTest> tests = new ArrayList<>();
        java.util.regex.Pattern only = java.util.regex.Pattern.compile(System.getProperty("load.variants", ""));
        for (Object[] v : variants()) {
            String scheme = (String) v[0];
            @SuppressWarnings("unchecked")
            Map<String, String> params = (Map<String, String>) v[1];
            boolean tls = (Boolean) v[2];
            String name = scheme + (params.isEmpty() ? "" : " " + params) + (tls ? " tls" : "");
            if (!only.matcher(name).find()) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(name, () -> run(name, OurSide.raw(scheme, params), tls)));
        }
        return tests.stream();
    }

    private void run(String name, OurSide side, boolean tls) throws Exception {
        int baselineFds = openFds();
        long t0 = System.nanoTime();
        LoadReport.Row row = new LoadReport.Row(name);
        synchronized (ROWS) {
            ROWS.add(row);
        }
        try (OurSide.Server server = side.server(env, tls);
             OurSide.Client client = side.client(env, new InetSocketAddress("127.0.0.1", server.port()), tls)) {
            // 1. sequential bulk transfers on the same dialer
            for (int i = 0; i < 3; i++) {
                row.bytes.addAndGet(2 * echoBulk(client, bulkBytes, i));
                row.tunnels.incrementAndGet();
            }
            // 2. concurrent bulk tunnels with a latency probe beside them
            long worst = concurrentWithProbe(client, row);
            row.worstProbeMillis = worst;
            assertTrue(worst < PROBE_BOUND_MILLIS, name + ": the probe tunnel waited " + worst + " ms for a round trip "
                    + "while " + CONCURRENT + " bulk tunnels ran");
            // 3. churn: short tunnels, then tunnels reset mid-transfer
            for (int i = 0; i < shortTunnels; i++) {
                try (Conn c = client.open(new byte[0])) {
                    byte[] hi = ("hi " + i).getBytes();
                    c.write(hi, 0, hi.length);
                    byte[] back = new byte[hi.length];
                    c.readFully(back, 0, back.length, READ_DEADLINE_MILLIS);
                    if (!Arrays.equals(hi, back)) {
                        fail(name + ": short tunnel " + i + " echoed " + new String(back));
                    }
                }
                row.tunnels.incrementAndGet();
            }
            byte[] chunk = new byte[64 * 1024];
            for (int i = 0; i < resets; i++) {
                Conn c = client.open(new byte[0]);
                for (int k = 0; k < 16; k++) {
                    c.write(chunk, 0, chunk.length);
                }
                c.close();
                row.tunnels.incrementAndGet();
            }
            // the dialer still works after the churn
            row.bytes.addAndGet(2 * echoBulk(client, 1 << 20, 99));
            // 4. idle, then used
            try (Conn c = client.open(new byte[0])) {
                byte[] a = "before idle".getBytes();
                c.write(a, 0, a.length);
                c.readFully(new byte[a.length], 0, a.length, READ_DEADLINE_MILLIS);
                Thread.sleep(idleMillis);
                byte[] b = "after idle".getBytes();
                c.write(b, 0, b.length);
                byte[] back = new byte[b.length];
                c.readFully(back, 0, back.length, READ_DEADLINE_MILLIS);
                assertTrue(Arrays.equals(b, back), name + ": the idle tunnel echoed " + new String(back));
                row.tunnels.incrementAndGet();
            }
            row.state = "pass";
        } catch (Throwable t) {
            row.state = "fail";
            row.reason = String.valueOf(t);
            throw t;
        } finally {
            row.millis = (System.nanoTime() - t0) / 1_000_000;
        }
        // file descriptors back to the baseline once everything is closed
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        int fds = openFds();
        while (fds > baselineFds + HostileProbes.FD_NOISE && System.nanoTime() < deadline) {
            Thread.sleep(100);
            fds = openFds();
        }
        row.fdsAfter = fds - baselineFds;
        if (fds > baselineFds + HostileProbes.FD_NOISE && Boolean.getBoolean("load.debugFds")) {
            java.util.Map<String, Integer> kinds = new java.util.TreeMap<>();
            for (File f : java.util.Objects.requireNonNull(new File("/proc/self/fd").listFiles())) {
                try {
                    String t = java.nio.file.Files.readSymbolicLink(f.toPath()).toString();
                    kinds.merge(t.replaceAll("[0-9]+", "N"), 1, Integer::sum);
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
            System.out.println("[load] open fds by kind: " + kinds);
        }
        if (fds > baselineFds + HostileProbes.FD_NOISE) {
            row.state = "fail";
            row.reason = (fds - baselineFds) + " file descriptors more than before";
            fail(name + ": " + row.reason);
        }
    }

    /** Sends {@code bytes} of pseudo-random data through a new tunnel and checks the echo by SHA-256. */
    private static long echoBulk(OurSide.Client client, long bytes, long seed) throws Exception {
        try (Conn c = client.open(new byte[0])) {
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            Future<byte[]> reader = pool.submit(() -> {
                MessageDigest got = MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[64 * 1024];
                long left = bytes;
                while (left > 0) {
                    int n;
                    try {
                        n = c.read(buf, 0, (int) Math.min(buf.length, left), READ_DEADLINE_MILLIS);
                    } catch (java.net.SocketTimeoutException e) {
                        throw new IOException("stall: nothing for " + READ_DEADLINE_MILLIS + " ms with " + left
                                + " of " + bytes + " bytes still expected", e);
                    }
                    if (n < 0) {
                        throw new IOException("end of stream with " + left + " of " + bytes + " bytes still expected");
                    }
                    got.update(buf, 0, n);
                    left -= n;
                }
                return got.digest();
            });
            Random rnd = new Random(seed);
            byte[] buf = new byte[64 * 1024];
            long left = bytes;
            while (left > 0) {
                rnd.nextBytes(buf);
                int n = (int) Math.min(buf.length, left);
                c.write(buf, 0, n);
                sent.update(buf, 0, n);
                left -= n;
            }
            byte[] want = sent.digest();
            byte[] got = reader.get(READ_DEADLINE_MILLIS + bytes / (256 * 1024), TimeUnit.MILLISECONDS);
            if (!Arrays.equals(want, got)) {
                throw new AssertionError("SHA-256 of the echo differs: " + HexFormat.of().formatHex(got) + " != "
                        + HexFormat.of().formatHex(want));
            }
            return bytes;
        }
    }

    /** {@value #CONCURRENT} bulk echo tunnels at once and a probe tunnel; returns the probe's worst round trip. */
    private long concurrentWithProbe(OurSide.Client client, LoadReport.Row row) throws Exception {
        try (Conn probe = client.open(new byte[0])) {
            List<Future<Long>> bulk = new ArrayList<>();
            for (int i = 0; i < CONCURRENT; i++) {
                long seed = 1000 + i;
                bulk.add(pool.submit(() -> echoBulk(client, concurrentBytes, seed)));
            }
            long worst = 0;
            byte[] ping = new byte[16];
            byte[] pong = new byte[16];
            int rounds = 0;
            while (bulk.stream().anyMatch(f -> !f.isDone()) || rounds < 5) {
                Arrays.fill(ping, (byte) rounds);
                long t = System.nanoTime();
                probe.write(ping, 0, ping.length);
                probe.readFully(pong, 0, pong.length, READ_DEADLINE_MILLIS);
                worst = Math.max(worst, (System.nanoTime() - t) / 1_000_000);
                if (!Arrays.equals(ping, pong)) {
                    fail("the probe tunnel echoed other bytes");
                }
                rounds++;
                Thread.sleep(100);
            }
            for (Future<Long> f : bulk) {
                row.bytes.addAndGet(2 * f.get());
                row.tunnels.incrementAndGet();
            }
            row.tunnels.incrementAndGet();
            return worst;
        }
    }

    static int openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    @AfterAll
    static void finish() throws Exception {
        pool.shutdownNow();
        echo.close();
        loops.close();
        LoadReport r;
        synchronized (ROWS) {
            r = new LoadReport(ROWS, (System.nanoTime() - T0) / 1_000_000, FULL);
        }
        LoadReport.publish(r);
        Report matrix = Report.last;
        if (matrix != null) {
            matrix.write(Path.of(System.getProperty("interop.reportDir", "target/interop-report")));
        }
        for (LoadReport.Row row : r.rows) {
            System.out.println("[load] " + row.describe());
        }
    }
}
