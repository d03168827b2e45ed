package dev.tunnelwire.interop;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hostile group (issue #17): {@link HostileProbes} against tunnelwire's listeners with their defaults, the
 * bounds asserted, the figures in the interop report's "Hostile input" section ({@link HostileReport}).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class HostileIT {

    private static final List<HostileReport.Probe> ROWS = new ArrayList<>();
    private static final long T0 = System.nanoTime();
    private static HostileProbes probes;

    @BeforeAll
    static void start() {
        probes = new HostileProbes();
    }

    private static void check(List<HostileReport.Probe> rows) {
        synchronized (ROWS) {
            ROWS.addAll(rows);
        }
        for (HostileReport.Probe p : rows) {
            assertEquals(0, p.held(), p.probe() + " on " + p.listener() + ": " + p.note());
        }
    }

    @Test
    void slowlorisAndJunkAreClosedByTheListenersTimeouts() throws Exception {
        List<HostileProbes.Target> targets = probes.targets();
        List<HostileReport.Probe> slow = probes.slowloris(targets);
        check(slow);
        for (HostileReport.Probe p : slow) {
            // the handshake timeouts are 15 s (HTTP/1, proxies), 10 s (HTTP/2 preface, TLS)
            assertTrue(p.listener().startsWith("(") || p.seconds() < 20, p + " closed too late");
        }
        List<HostileReport.Probe> junk = probes.junk(targets);
        check(junk);
        for (HostileReport.Probe p : junk) {
            if (p.listener().startsWith("(")) {
                assertTrue(p.note().contains(" 0 stack-trace lines") && p.note().contains(" 0 'reached the tail"),
                        "junk must not log stack traces: " + p.note());
            }
        }
    }

    @Test
    void anOversizeWebSocketFrameIsRefusedWithoutBuffering() throws Exception {
        HostileReport.Probe p = probes.oversizeWsFrame();
        check(List.of(p));
        assertTrue(p.bytes() < 16L * 1024 * 1024, "direct memory grew by " + p.bytes() + " bytes: " + p.note());
    }

    @Test
    void madeYouResetIsCutOff() throws Exception {
        for (String scheme : List.of("grpc", "h2c")) {
            HostileReport.Probe p = probes.madeYouReset(scheme);
            check(List.of(p));
            assertTrue(p.note().contains("GOAWAY(11)"), scheme + ": " + p.note());
        }
    }

    @Test
    void idleHttp2ConnectionsAreClosedByTheirTimeout() throws Exception {
        for (String scheme : List.of("grpc", "h2c")) {
            HostileReport.Probe p = probes.idleHttp2(scheme, Duration.ofSeconds(2));
            check(List.of(p));
            assertTrue(p.seconds() < 6, p.toString());
        }
    }

    @Test
    void plainProxyingLeavesNoFileDescriptorBehind() throws Exception {
        HostileReport.Probe p = probes.plainProxyFds();
        check(List.of(p));
        assertTrue(p.note().startsWith(HostileProbes.PLAIN_GETS + " of"), p.note());
    }

    @AfterAll
    static void report() throws Exception {
        if (probes != null) {
            probes.close();
        }
        HostileReport r;
        synchronized (ROWS) {
            r = new HostileReport(ROWS, (System.nanoTime() - T0) / 1_000_000);
        }
        HostileReport.publish(r);
        Report matrix = Report.last;
        if (matrix != null) {
            matrix.write(Path.of(System.getProperty("interop.reportDir", "target/interop-report")));
        }
        for (HostileReport.Probe p : r.probes) {
            System.out.println("[hostile] " + p);
        }
    }
}
