package dev.tunnelwire.interop;

import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.interop.Cell.Direction;
import dev.tunnelwire.interop.Cell.State;
import dev.tunnelwire.testkit.LoopbackServers;
import dev.tunnelwire.testkit.TestPki;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * The interop matrix against the real peers (sing-box, Xray, gost), both directions: one JUnit test per cell, plus a
 * first test that prepares the runtime (Docker engine), builds missing peers and starts one process/container per
 * peer role. Writes {@code target/interop-report/} (index.html, report.json; failsafe's JUnit XML in {@code junit/}).
 *
 * <p>A missing Docker engine or a peer that fails to build fails every cell that needs it, with the reason: nothing is
 * skipped. Unsupported cells and known peer bugs are reported as skipped tests with their reason.
 */
class InteropMatrixIT {

    private static final long CELL_TIMEOUT_SECONDS = 240;
    private static final int PEER_PORT_MIN = 20_000;
    private static final int PEER_PORT_MAX = 32_000;
    private static final int START_ATTEMPTS = 3;

    private static final List<CellRun> RUNS = new ArrayList<>();
    private static final Map<String, Role> ROLES = new LinkedHashMap<>();
    private static final Map<String, PeerRuntime.Running> RUNNING = new LinkedHashMap<>();
    private static final Map<String, String> ROLE_ERRORS = new LinkedHashMap<>();
    private static final Map<String, Report.PeerInfo> PEERS = new LinkedHashMap<>();
    private static final Set<Integer> USED_PORTS = new HashSet<>();
    private static final Instant STARTED = Instant.now();
    private static final long T0 = System.nanoTime();

    private static PeerToolchain toolchain;
    private static PeerRuntime runtime;
    private static String runtimeError;
    private static Env env;
    private static TunnelRuntime loops;
    private static LoopbackServers echo;
    private static ExecutorService pool;
    private static long prepareMillis;

    /** One cell with its live parts. */
    private static final class CellRun {
        final CellDef def;
        final CellResult result;
        RecordingProxy recorder;
        OurSide.Server server;
        CellDef.Ports ports;
        String setupError;
        boolean planned;

        CellRun(CellDef def) {
            this.def = def;
            this.result = new CellResult(def);
        }
    }

    @TestFactory
    @DisplayName("interop")
    Stream<DynamicTest> matrix() throws Exception {
        // logs and work files of an earlier run would be mistaken for this run's
        for (String sub : List.of("logs", "work")) {
            deleteTree(reportDir().resolve(sub));
        }
        List<CellDef> defs = Matrix.cells();
        String only = System.getProperty("interop.cells", "");
        if (only.isBlank() && !(System.getProperty("conformance.peerCases", "")
                + System.getProperty("conformance.targets", "")).isBlank()) {
            // a conformance subset (PeerConformanceIT) was asked for, not the matrix
            System.out.println("[interop] -Dconformance.* given without -Dinterop.cells: no matrix cells");
            return Stream.empty();
        }
        if (!only.isBlank()) {
            // a developer's subset (regex on the cell id); the build never sets it
            java.util.regex.Pattern p = java.util.regex.Pattern.compile(only);
            defs = defs.stream().filter(d -> p.matcher(d.cell().id()).find()).toList();
            System.out.println("[interop] -Dinterop.cells=" + only + ": " + defs.size() + " cells selected");
        }
        loops = TunnelRuntime.create(2);
        echo = LoopbackServers.echo();
        pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "interop-workload");
            t.setDaemon(true);
            return t;
        });
        env = new Env(loops, TransportRegistry.defaultRegistry(), echo.address(), pool);
        for (CellDef d : defs) {
            RUNS.add(plan(d));
        }
        int total = RUNS.size();
        List<DynamicTest> tests = new ArrayList<>();
        tests.add(DynamicTest.dynamicTest("prepare peers (" + ROLES.keySet() + ")", InteropMatrixIT::prepare));
        for (int i = 0; i < total; i++) {
            CellRun run = RUNS.get(i);
            int n = i + 1;
            tests.add(DynamicTest.dynamicTest(run.def.cell().id(), () -> runCell(run, n, total)));
        }
        return tests.stream();
    }

    private static CellRun plan(CellDef d) {
        CellRun run = new CellRun(d);
        if (d.unsupported() != null) {
            return run;
        }
        try {
            run.recorder = new RecordingProxy(loops);
            int peerPort = freePort();
            if (d.cell().direction() == Direction.OUTBOUND) {
                run.recorder.target(new InetSocketAddress("127.0.0.1", peerPort));
                run.ports = new CellDef.Ports(peerPort, 0, echo.address());
            } else {
                run.server = d.ours().server(env, d.cell().tls());
                run.recorder.target(new InetSocketAddress("127.0.0.1", run.server.port()));
                run.ports = new CellDef.Ports(peerPort, run.recorder.port(), echo.address());
            }
            Role role = ROLES.computeIfAbsent(d.role(), InteropMatrixIT::newRole);
            d.peer().configure(role, run.ports);
            role.ports.add(peerPort);
            run.planned = true;
        } catch (Exception | LinkageError e) {
            run.setupError = "cannot set up our side of the cell: " + e;
        }
        return run;
    }

    private static Role newRole(String name) {
        String base = name.contains("+") ? name.substring(0, name.indexOf('+')) : name;
        String peer = base.substring(0, base.lastIndexOf('-'));
        if (peer.equals("gost")) {
            return new Role.Gost(name, peer);
        } else if (peer.equals("xray")) {
            return new Role.Xray(name, peer);
        } else if (peer.equals("v2ray")) {
            return new Role.V2fly(name, peer);
        } else if (peer.startsWith("singbox")) {
            return new Role.Singbox(name, peer);
        }
        throw new IllegalArgumentException("no config model for peer role " + name);
    }

    /**
     * A free port for a peer to listen on, below the kernel's ephemeral range (so that no connection or port-0 bind
     * of this JVM, the peers or anything else on the machine takes it between now and the peer's start).
     */
    private static int freePort() throws IOException {
        java.util.concurrent.ThreadLocalRandom rnd = java.util.concurrent.ThreadLocalRandom.current();
        for (int i = 0; i < 1000; i++) {
            int port = rnd.nextInt(PEER_PORT_MIN, PEER_PORT_MAX);
            if (USED_PORTS.contains(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port), 1);
            } catch (IOException busy) {
                continue;
            }
            USED_PORTS.add(port);
            return port;
        }
        throw new IOException("no free port in [" + PEER_PORT_MIN + ", " + PEER_PORT_MAX + ")");
    }

    /** Gives every cell of {@code name} a new peer port and rebuilds the role's config (after a port clash). */
    private static Role replan(String name) throws IOException {
        Role fresh = newRole(name);
        for (CellRun run : RUNS) {
            if (!run.planned || !run.def.role().equals(name)) {
                continue;
            }
            int port = freePort();
            run.ports = new CellDef.Ports(port, run.ports.ours(), run.ports.echo());
            if (run.def.cell().direction() == Direction.OUTBOUND) {
                run.recorder.target(new InetSocketAddress("127.0.0.1", port));
            }
            run.def.peer().configure(fresh, run.ports);
            fresh.ports.add(port);
        }
        ROLES.put(name, fresh);
        return fresh;
    }

    /** Prepares the runtime, builds the peers and starts every role. Fails when anything is missing. */
    private static void prepare() throws Exception {
        long t0 = System.nanoTime();
        try {
            toolchain = new PeerToolchain();
            String which = System.getProperty("interop.runtime", "docker");
            Path report = reportDir();
            runtime = switch (which) {
                case "docker" -> new DockerPeerRuntime(toolchain);
                case "process" -> new ProcessPeerRuntime(report.resolve("work"));
                default -> throw new IllegalArgumentException("-Dinterop.runtime must be docker or process, not "
                        + which);
            };
            System.out.println("[interop] runtime " + runtime.name() + ": preparing");
            runtime.prepare();
            System.out.println("[interop] runtime " + runtime.describe());
        } catch (Exception | Error e) {
            runtimeError = "peer runtime not available: " + e.getMessage();
            prepareMillis = (System.nanoTime() - t0) / 1_000_000;
            throw new AssertionError(runtimeError, e);
        }
        Path pkiDir = Files.createTempDirectory("tunnelwire-interop-pki");
        TestPki.get().writePem(pkiDir);
        Map<String, String> pki = Map.of(
                Role.CA, Files.readString(pkiDir.resolve("ca.pem")),
                Role.CERT, Files.readString(pkiDir.resolve("cert.pem")),
                Role.KEY, Files.readString(pkiDir.resolve("key.pem")));
        Map<String, Path> binaries = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        for (Role role : List.copyOf(ROLES.values())) {
            try {
                Path bin = binaries.get(role.peer);
                if (!binaries.containsKey(role.peer)) {
                    long b0 = System.nanoTime();
                    bin = runtime.provision(toolchain, role.peer);
                    binaries.put(role.peer, bin);
                    String origin = runtime.origin(role.peer, bin);
                    PEERS.put(role.peer, new Report.PeerInfo(role.peer, toolchain.version(role.peer), origin,
                            bin == null ? "" : PeerToolchain.buildStamp(bin)));
                    System.out.printf("[interop] peer %s %s: %s (%d ms)%n", role.peer,
                            toolchain.version(role.peer), origin, (System.nanoTime() - b0) / 1_000_000);
                }
                long s0 = System.nanoTime();
                Role r = role;
                for (int attempt = 1; ; attempt++) {
                    try {
                        RUNNING.put(r.name, runtime.start(r.launch(bin, pki)));
                        break;
                    } catch (RuntimeException e) {
                        // another process took one of the ports between allocation and start: new ports, again
                        boolean clash = String.valueOf(e.getMessage()).contains("address already in use");
                        if (attempt >= START_ATTEMPTS || !clash) {
                            throw e;
                        }
                        System.out.println("[interop] role " + r.name + ": port clash, retrying with new ports");
                        r = replan(r.name);
                    }
                }
                System.out.printf("[interop] role %s started on %s ports %s (%d ms)%n", r.name, runtime.name(),
                        r.ports, (System.nanoTime() - s0) / 1_000_000);
            } catch (Exception | Error e) {
                String msg = e.getMessage() == null ? e.toString() : e.getMessage();
                ROLE_ERRORS.put(role.name, msg);
                failures.add(role.name + ": " + msg);
                System.out.println("[interop] role " + role.name + " FAILED: " + msg);
            }
        }
        prepareMillis = (System.nanoTime() - t0) / 1_000_000;
        if (!failures.isEmpty()) {
            throw new AssertionError("peer roles failed to start:\n" + String.join("\n", failures));
        }
    }

    private static void runCell(CellRun run, int n, int total) throws Exception {
        CellResult r = run.result;
        CellDef d = run.def;
        long t0 = System.nanoTime();
        try {
            if (d.unsupported() != null) {
                r.state = State.UNSUPPORTED;
                r.reason = d.unsupported();
                throw new TestAbortedException("unsupported: " + d.unsupported());
            }
            String blocker = run.setupError != null ? run.setupError
                    : runtimeError != null ? runtimeError
                    : runtime == null ? "the peers were not prepared"
                    : ROLE_ERRORS.get(d.role()) != null ? d.role() + " failed to start: " + ROLE_ERRORS.get(d.role())
                    : null;
            if (blocker != null) {
                r.state = State.FAIL;
                r.reason = blocker;
                throw new AssertionError(blocker);
            }
            execute(run);
        } finally {
            r.millis = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("[interop] cell %d of %d %-45s %s%s%n", n, total, d.cell().id(), r.state.json(),
                    r.state == State.PASS ? String.format(" (%.1f s, %.0f MB/s)", r.millis / 1000.0,
                            r.megabytesPerSecond)
                            : r.reason.isEmpty() ? "" : ": " + abbreviate(firstLine(r.reason), 200));
        }
    }

    private static void execute(CellRun run) throws Exception {
        CellResult r = run.result;
        CellDef d = run.def;
        run.recorder.reset();
        PeerRuntime.Running peer = RUNNING.get(d.role());
        Throwable failure = null;
        OurSide.Client client = null;
        try {
            Workload.Opener opener;
            if (d.cell().direction() == Direction.OUTBOUND) {
                client = d.ours().client(env, new InetSocketAddress("127.0.0.1", run.recorder.port()),
                        d.cell().tls());
                opener = client::open;
            } else {
                opener = switch (d.entry()) {
                    case TCP -> first -> Conn.socket(run.ports.peer()).writeFirst(first);
                    case SOCKS5 -> first -> Conn.socks5(run.ports.peer(), echo.address()).writeFirst(first);
                };
            }
            Workload.Opener o = opener;
            Future<Workload.Outcome> f = pool.submit(() -> Workload.run(o, pool, d.cell().id().hashCode()));
            try {
                Workload.Outcome out = f.get(CELL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                r.bytes = out.bytes();
                r.megabytesPerSecond = out.bulkMegabytesPerSecond();
            } catch (TimeoutException e) {
                f.cancel(true);
                throw new TimeoutException("cell not done after " + CELL_TIMEOUT_SECONDS + " s");
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception ex ? ex : new RuntimeException(e.getCause());
            }
        } catch (Exception | AssertionError e) {
            failure = e;
        } finally {
            if (client != null) {
                client.close();
            }
        }
        if (failure == null) {
            List<String> leaks = LeakCheck.drain();
            if (!leaks.isEmpty()) {
                failure = new AssertionError(leaks.size() + " leaked buffer(s) on our side:\n"
                        + String.join("\n", leaks));
            }
        }
        if (failure == null) {
            r.state = State.PASS;
            r.reason = d.knownBug() != null ? "known peer bug did not show: " + d.knownBug() : "";
            return;
        }
        r.reason = describe(failure);
        r.transcript = transcripts(run);
        r.peerLog = peer == null ? "" : PortWait.tail(peer.logs());
        if (peer != null && !peer.isRunning()) {
            r.reason += " (the peer role " + d.role() + " is no longer running)";
        }
        if (d.knownBug() != null) {
            r.state = State.KNOWN_PEER_BUG;
            r.reason = d.knownBug() + " — observed: " + r.reason;
            throw new TestAbortedException("known peer bug: " + r.reason);
        }
        r.state = State.FAIL;
        throw new AssertionError(d.cell().id() + ": " + r.reason + "\n\nwire transcript:\n" + r.transcript,
                failure);
    }

    private static String transcripts(CellRun run) {
        StringBuilder sb = new StringBuilder();
        sb.append(run.recorder.connections()).append(" connection(s) through the recording proxy between ")
                .append(run.def.cell().direction() == Direction.OUTBOUND ? "our client (client) and the peer server"
                        : "the peer client (client) and our server")
                .append(" (server)\n");
        for (Transcript t : run.recorder.transcripts()) {
            sb.append(t.render());
        }
        return sb.toString();
    }

    private static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(String.valueOf(t.getMessage() == null ? t.toString() : t.getMessage()));
        Throwable c = t.getCause();
        for (int i = 0; c != null && i < 4; i++, c = c.getCause()) {
            String m = c.toString();
            if (!sb.toString().contains(m)) {
                sb.append("\ncaused by: ").append(m);
            }
        }
        return sb.toString();
    }

    private static String firstLine(String s) {
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i) + " ...";
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }

    static Path reportDir() {
        return Path.of(System.getProperty("interop.reportDir", "target/interop-report"));
    }

    @AfterAll
    static void report() throws Exception {
        try {
            Path dir = reportDir();
            Files.createDirectories(dir.resolve("logs"));
            for (Map.Entry<String, PeerRuntime.Running> e : RUNNING.entrySet()) {
                Files.writeString(dir.resolve("logs").resolve(e.getKey() + ".log"), e.getValue().logs(),
                        StandardCharsets.UTF_8);
            }
            for (Role role : ROLES.values()) {
                String peerDir = runtime instanceof DockerPeerRuntime ? DockerPeerRuntime.DIR
                        : dir.resolve("work").resolve(role.name).toAbsolutePath().toString();
                for (Map.Entry<String, String> f : role.configFiles().entrySet()) {
                    Files.writeString(dir.resolve("logs").resolve(role.name + "." + f.getKey()),
                            f.getValue().replace(PeerLaunch.DIR, peerDir), StandardCharsets.UTF_8);
                }
            }
            List<CellResult> results = RUNS.stream().map(r -> {
                if (r.result.state == null) {
                    r.result.state = State.FAIL;
                    r.result.reason = "not run";
                }
                return r.result;
            }).toList();
            Path base = Path.of(System.getProperty("interop.basedir", ".")).toAbsolutePath();
            Report report = new Report(STARTED, (System.nanoTime() - T0) / 1_000_000, prepareMillis,
                    PeerToolchain.gitRevision(base), runtime == null ? System.getProperty("interop.runtime", "docker")
                    : runtime.name(), runtime == null ? String.valueOf(runtimeError) : runtime.describe(),
                    new ArrayList<>(PEERS.values()), results);
            report.write(dir);
            System.out.println("[interop] " + report.summary());
            System.out.println("[interop] report: " + dir.toAbsolutePath().resolve("index.html") + " and "
                    + dir.toAbsolutePath().resolve("report.json"));
        } finally {
            for (CellRun r : RUNS) {
                if (r.server != null) {
                    r.server.close();
                }
                if (r.recorder != null) {
                    r.recorder.close();
                }
            }
            if (runtime != null) {
                runtime.close();
            }
            if (echo != null) {
                echo.close();
            }
            if (loops != null) {
                loops.close();
            }
            if (pool != null) {
                pool.shutdownNow();
            }
        }
    }
}
