package dev.tunnelwire.interop;

import dev.tunnelwire.conformance.AppEndpoint;
import dev.tunnelwire.conformance.CaseResult;
import dev.tunnelwire.conformance.Engine;
import dev.tunnelwire.conformance.ExternalTarget;
import dev.tunnelwire.conformance.Fixture;
import dev.tunnelwire.conformance.FixtureLoader;
import dev.tunnelwire.conformance.ImplTarget;
import dev.tunnelwire.conformance.SocketApp;
import dev.tunnelwire.conformance.Target;
import dev.tunnelwire.conformance.WireLog;
import dev.tunnelwire.interop.ConformanceReport.Outcome;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Replays every conformance fixture against tunnelwire in-process and against the reference peers (sing-box, Xray,
 * gost), each peer configured from the case's neutral options ({@link PeerCases}). Cases that need the same peer
 * configuration share one inbound; each peer runs as one process/container with all its inbounds, started once. The
 * targets run in parallel lanes (one per target, cases in order within a lane), each lane on its own ports.
 *
 * <p>Outcomes: pass; fail (undocumented: fails the build); deviation (failed as the fixture's {@code peerDeviations}
 * documents for that peer: reported as a skipped test with the evidence); n/a (the peer has no such transport or
 * option, with the reason: skipped). The results go into the interop report's conformance section
 * ({@link ConformanceReport}).
 *
 * <p>{@code -Dconformance.peerCases=glob,glob} selects cases by id; {@code -Dconformance.targets=tunnelwire,gost}
 * selects targets. When only {@code -Dinterop.cells} is given (a matrix subset), this test does nothing.
 */
class PeerConformanceIT {

    private static final int PORT_MIN = 14_000;
    private static final int PORT_MAX = 20_000;
    private static final int START_ATTEMPTS = 3;
    private static final long CASE_WAIT_SECONDS = 300;

    private static final Instant STARTED = Instant.now();
    private static final long T0 = System.nanoTime();
    private static final List<Item> ITEMS = new ArrayList<>();
    /** peer → inbound key → inbound. */
    private static final Map<String, Map<String, Inbound>> INBOUNDS = new LinkedHashMap<>();
    private static final Map<String, Role> ROLES = new LinkedHashMap<>();
    /** Peer binaries (null for official images), for the roles started per case. */
    private static final Map<String, Path> BINARIES = new LinkedHashMap<>();
    /** The test PKI's PEM files every peer gets (gost's HTTP/2 proxy listener is TLS only). */
    private static final Map<String, String> PKI = new LinkedHashMap<>();
    private static final Map<String, PeerRuntime.Running> RUNNING = new LinkedHashMap<>();
    private static final Map<String, String> PEER_ERRORS = new LinkedHashMap<>();
    private static final List<Report.PeerInfo> PEER_INFO = new ArrayList<>();
    private static final Set<Integer> USED_PORTS = new HashSet<>();
    private static final Map<String, ExecutorService> LANES = new LinkedHashMap<>();

    private static PeerRuntime runtime;
    private static String runtimeError;
    private static long prepareMillis;
    private static String selection = "";
    private static boolean skipped;

    /** One peer inbound shared by the cases with the same mapping key. */
    private static final class Inbound {
        final String peer;
        final PeerCases.Mapping mapping;
        PeerCases.Ports ports;
        /** The role of its own (mapping.perCase() != null), started for its case. */
        Role own;

        Inbound(String peer, PeerCases.Mapping mapping) {
            this.peer = peer;
            this.mapping = mapping;
        }
    }

    /** One case on one target. */
    private static final class Item {
        final Fixture fixture;
        final String target;
        final String peer;
        final Inbound inbound;
        final String notApplicable;
        CompletableFuture<ConformanceReport.Cell> result = new CompletableFuture<>();

        Item(Fixture fixture, String target, String peer, Inbound inbound, String notApplicable) {
            this.fixture = fixture;
            this.target = target;
            this.peer = peer;
            this.inbound = inbound;
            this.notApplicable = notApplicable;
        }

        String name() {
            return target + " " + fixture.id();
        }
    }

    @TestFactory
    @DisplayName("conformance")
    Stream<DynamicTest> conformance() throws Exception {
        String cases = System.getProperty("conformance.peerCases", "").trim();
        String targets = System.getProperty("conformance.targets", "").trim();
        if (cases.isEmpty() && targets.isEmpty() && !System.getProperty("interop.cells", "").isBlank()) {
            skipped = true;
            return Stream.of(DynamicTest.dynamicTest("conformance against the peers", () -> {
                throw new TestAbortedException("-Dinterop.cells selects a matrix subset; give "
                        + "-Dconformance.peerCases=glob to run conformance cases too");
            }));
        }
        selection = (cases.isEmpty() ? "" : "cases " + cases) + (targets.isEmpty() ? "" : " targets " + targets);
        Set<String> only = targets.isEmpty() ? null : Set.of(targets.split("\\s*,\\s*"));
        List<Fixture> fixtures = FixtureLoader.select(FixtureLoader.loadFromClassPath(), cases);
        if (fixtures.isEmpty()) {
            throw new AssertionError("no fixture selected (-Dconformance.peerCases=" + cases + ")");
        }
        System.out.println("[conformance] " + fixtures.size() + " cases" + (selection.isEmpty() ? "" : " (" + selection
                + ")"));
        for (Fixture f : fixtures) {
            if (only == null || only.contains("tunnelwire")) {
                ITEMS.add(new Item(f, "tunnelwire", null, null, null));
            }
            for (String peer : PeerCases.PEERS) {
                String name = PeerCases.fixtureName(peer);
                if (only != null && !only.contains(name) && !only.contains(peer)) {
                    continue;
                }
                PeerCases.Result r = PeerCases.map(f, peer);
                if (r.mapping() == null) {
                    ITEMS.add(new Item(f, name, peer, null, r.notApplicable()));
                    continue;
                }
                Inbound in = INBOUNDS.computeIfAbsent(peer, k -> new LinkedHashMap<>())
                        .computeIfAbsent(r.mapping().key(), k -> new Inbound(peer, r.mapping()));
                ITEMS.add(new Item(f, name, peer, in, null));
            }
        }
        for (String peer : INBOUNDS.keySet()) {
            plan(peer);
        }
        List<DynamicTest> tests = new ArrayList<>();
        tests.add(DynamicTest.dynamicTest("prepare peers " + INBOUNDS.keySet(), PeerConformanceIT::prepare));
        for (Item it : ITEMS) {
            tests.add(DynamicTest.dynamicTest(it.name(), () -> check(it)));
        }
        return tests.stream();
    }

    /** Gives every inbound of {@code peer} fresh ports and builds the peer's config. */
    private static void plan(String peer) throws IOException {
        Role role = newRole(peer, "conformance-" + peer);
        for (Inbound in : INBOUNDS.get(peer).values()) {
            in.ports = new PeerCases.Ports(freePort(), freePort());
            Role target = role;
            if (in.mapping.perCase() != null) {
                in.own = newRole(peer, "conformance-" + peer + "-" + in.ports.listen());
                target = in.own;
            }
            in.mapping.configure().accept(target, in.ports);
            target.ports.add(in.ports.listen());
        }
        if (!role.ports.isEmpty()) {
            ROLES.put(peer, role);
        }
    }

    private static Role newRole(String peer, String name) {
        return switch (peer) {
            case "gost" -> new Role.Gost(name, peer);
            case "xray" -> new Role.Xray(name, peer);
            default -> new Role.Singbox(name, peer);
        };
    }

    /**
     * A free loopback port for a peer inbound or an engine endpoint, from a range of its own (below the matrix's and
     * the kernel's ephemeral range), so nothing else takes it between planning and use.
     */
    private static int freePort() throws IOException {
        java.util.concurrent.ThreadLocalRandom rnd = java.util.concurrent.ThreadLocalRandom.current();
        for (int i = 0; i < 2000; i++) {
            int port = rnd.nextInt(PORT_MIN, PORT_MAX);
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
        throw new IOException("no free port in [" + PORT_MIN + ", " + PORT_MAX + ")");
    }

    private static ExecutorService lane(String target) {
        return LANES.computeIfAbsent(target, t -> Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, "conformance-" + t);
            th.setDaemon(true);
            return th;
        }));
    }

    /** Starts the in-process lane, then the peers, then their lanes. */
    private static void prepare() throws Exception {
        long t0 = System.nanoTime();
        ImplTarget impl = new ImplTarget();
        Engine engine = new Engine();
        for (Item it : ITEMS) {
            if (it.peer == null) {
                it.result = CompletableFuture.supplyAsync(() -> runImpl(engine, impl, it), lane(it.target));
            }
        }
        List<String> failures = new ArrayList<>();
        if (!INBOUNDS.isEmpty()) {
            try {
                PeerToolchain toolchain = new PeerToolchain();
                String which = System.getProperty("interop.runtime", "docker");
                runtime = switch (which) {
                    case "docker" -> new DockerPeerRuntime(toolchain);
                    case "process" -> new ProcessPeerRuntime(reportDir().resolve("conformance-work"));
                    default -> throw new IllegalArgumentException("-Dinterop.runtime must be docker or process");
                };
                runtime.prepare();
                System.out.println("[conformance] runtime " + runtime.describe());
                Path pkiDir = Files.createTempDirectory("tunnelwire-conformance-pki");
                dev.tunnelwire.testkit.TestPki.get().writePem(pkiDir);
                PKI.put(Role.CA, Files.readString(pkiDir.resolve("ca.pem")));
                PKI.put(Role.CERT, Files.readString(pkiDir.resolve("cert.pem")));
                PKI.put(Role.KEY, Files.readString(pkiDir.resolve("key.pem")));
                for (String peer : List.copyOf(INBOUNDS.keySet())) {
                    try {
                        startPeer(toolchain, peer);
                    } catch (Exception | Error e) {
                        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
                        PEER_ERRORS.put(peer, msg);
                        failures.add(peer + ": " + msg);
                        System.out.println("[conformance] peer " + peer + " FAILED to start: " + msg);
                    }
                }
            } catch (Exception | Error e) {
                runtimeError = "peer runtime not available: " + e.getMessage();
                failures.add(runtimeError);
            }
        }
        prepareMillis = (System.nanoTime() - t0) / 1_000_000;
        for (Item it : ITEMS) {
            if (it.peer != null) {
                it.result = CompletableFuture.supplyAsync(() -> runPeer(engine, it), lane(it.target));
            }
        }
        if (!failures.isEmpty()) {
            throw new AssertionError("peers failed to start:\n" + String.join("\n", failures));
        }
    }

    private static void startPeer(PeerToolchain toolchain, String peer) throws Exception {
        long b0 = System.nanoTime();
        Path bin = runtime.provision(toolchain, peer);
        BINARIES.put(peer, bin);
        PEER_INFO.add(new Report.PeerInfo(peer, toolchain.version(peer), runtime.origin(peer, bin),
                bin == null ? "" : PeerToolchain.buildStamp(bin)));
        if (!ROLES.containsKey(peer)) {
            return;
        }
        for (int attempt = 1; ; attempt++) {
            Role role = ROLES.get(peer);
            try {
                RUNNING.put(peer, runtime.start(role.launch(bin, PKI)));
                break;
            } catch (RuntimeException e) {
                boolean clash = String.valueOf(e.getMessage()).contains("address already in use");
                if (attempt >= START_ATTEMPTS || !clash) {
                    throw e;
                }
                System.out.println("[conformance] peer " + peer + ": port clash, retrying with new ports");
                plan(peer);
            }
        }
        System.out.printf("[conformance] peer %s %s started: %d inbounds (%d ms)%n", peer, toolchain.version(peer),
                INBOUNDS.get(peer).size(), (System.nanoTime() - b0) / 1_000_000);
    }

    private static ConformanceReport.Cell runImpl(Engine engine, ImplTarget impl, Item it) {
        try {
            return cell(it, engine.run(it.fixture, impl), "", "");
        } catch (RuntimeException | Error e) {
            return crashed(it, e);
        }
    }

    private static ConformanceReport.Cell runPeer(Engine engine, Item it) {
        try {
            return runPeerCase(engine, it);
        } catch (RuntimeException | Error e) {
            return crashed(it, e);
        }
    }

    private static ConformanceReport.Cell crashed(Item it, Throwable e) {
        java.io.StringWriter w = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(w));
        return new ConformanceReport.Cell(it.fixture.id(), it.fixture.transport(), it.target, Outcome.FAIL,
                "the harness failed: " + e, w.toString(), "", it.inbound == null ? "" : it.inbound.mapping.key(), 0);
    }

    private static ConformanceReport.Cell runPeerCase(Engine engine, Item it) {
        Fixture f = it.fixture;
        if (it.notApplicable != null) {
            return new ConformanceReport.Cell(f.id(), f.transport(), it.target, Outcome.NOT_APPLICABLE,
                    it.notApplicable, "", "", "", 0);
        }
        boolean own = it.inbound.own != null;
        String blocker = runtimeError != null ? runtimeError
                : PEER_ERRORS.get(it.peer) != null ? it.peer + " failed to start: " + PEER_ERRORS.get(it.peer)
                : !own && RUNNING.get(it.peer) == null ? "the peer was not started"
                : own && !BINARIES.containsKey(it.peer) ? "the peer was not provisioned" : null;
        if (blocker != null) {
            return new ConformanceReport.Cell(f.id(), f.transport(), it.target, Outcome.FAIL, blocker, blocker, "",
                    it.inbound.mapping.key(), 0);
        }
        PeerRuntime.Running peer = own ? null : RUNNING.get(it.peer);
        int mark = own ? 0 : peer.logs().length();
        PeerCases.Ports p = it.inbound.ports;
        PeerClient client = f.role() == Fixture.Role.CLIENT ? new PeerClient(it.peer,
                new InetSocketAddress("127.0.0.1", p.listen()), new InetSocketAddress("127.0.0.1", p.target()),
                own ? it.inbound.own.launch(BINARIES.get(it.peer), PKI) : null) : null;
        Target target = client != null ? client
                : new ExternalTarget(f.transport(), new InetSocketAddress("127.0.0.1", p.listen()),
                new InetSocketAddress("127.0.0.1", p.target()), null);
        CaseResult r = engine.run(f, target).asDeviationOf(it.target);
        String log = "";
        if (r.status() != CaseResult.Status.PASS) {
            if (own) {
                log = PortWait.tail(client.logs) + (client.exited ? "\n(the peer process had exited)" : "");
            } else {
                String all = peer.logs();
                log = PortWait.tail(all.length() >= mark ? all.substring(mark) : all);
                if (!peer.isRunning()) {
                    log += "\n(the peer is no longer running)";
                }
            }
        }
        return cell(it, r, log, it.inbound.mapping.key());
    }

    private static ConformanceReport.Cell cell(Item it, CaseResult r, String peerLog, String config) {
        Fixture f = it.fixture;
        Outcome o = switch (r.status()) {
            case PASS -> Outcome.PASS;
            case DEVIATION -> Outcome.DEVIATION;
            case SKIPPED -> Outcome.NOT_APPLICABLE;
            case FAIL, ERROR -> Outcome.FAIL;
        };
        String detail = switch (r.status()) {
            case PASS -> "";
            case SKIPPED -> String.valueOf(r.message());
            case DEVIATION -> r.message() + " — observed: " + firstLine(String.valueOf(r.actual()));
            case FAIL, ERROR -> r.status() + (r.step() >= 0 ? " at step " + r.step() : "") + ": "
                    + (r.actual() != null ? "expected " + r.expected() + ", actual " + r.actual() : r.message());
        };
        String text = o == Outcome.FAIL || o == Outcome.DEVIATION ? r.failureText() : "";
        return new ConformanceReport.Cell(f.id(), f.transport(), it.target, o, detail, text, peerLog, config,
                r.durationMs());
    }

    /**
     * A peer client with a fixed config (entry port and fake server port fixed per inbound): started once with its
     * peer's other inbounds, or, with a {@code launch}, started for the case after the engine's fake server listens
     * and stopped at its end.
     */
    private static final class PeerClient implements Target {
        final String peer;
        final InetSocketAddress entry;
        final InetSocketAddress fakeServer;
        final PeerLaunch launch;
        volatile String logs = "";
        volatile boolean exited;

        PeerClient(String peer, InetSocketAddress entry, InetSocketAddress fakeServer, PeerLaunch launch) {
            this.peer = peer;
            this.entry = entry;
            this.fakeServer = fakeServer;
            this.launch = launch;
        }

        @Override
        public String name() {
            return peer + " client via " + entry.getPort();
        }

        @Override
        public String unsupported(Fixture fixture) {
            return null;
        }

        @Override
        public InetSocketAddress fakeServerAddress(Fixture fixture) {
            return fakeServer;
        }

        @Override
        public Server startServer(Fixture fixture, WireLog log) {
            throw new UnsupportedOperationException("client role only");
        }

        @Override
        public Client startClient(Fixture fixture, InetSocketAddress server, WireLog log) throws Exception {
            PeerRuntime.Running running = null;
            if (launch != null) {
                long t0 = System.nanoTime();
                running = runtime.start(launch);
                log.note(peer + " client " + launch.role() + " started for this case ("
                        + (System.nanoTime() - t0) / 1_000_000 + " ms)");
            }
            log.note(peer + " client: entry " + entry + " → fake server " + server);
            SocketApp app = SocketApp.connecting(log, entry);
            PeerRuntime.Running own = running;
            return new Client() {
                @Override
                public AppEndpoint app() {
                    return app;
                }

                @Override
                public void close() {
                    app.close();
                    if (own != null) {
                        exited = !own.isRunning();
                        logs = own.logs();
                        own.close();
                    }
                }
            };
        }
    }

    private static void check(Item it) throws Exception {
        ConformanceReport.Cell c = it.result.get(CASE_WAIT_SECONDS, TimeUnit.SECONDS);
        switch (c.outcome()) {
            case PASS -> {
            }
            case NOT_APPLICABLE -> throw new TestAbortedException("n/a: " + c.detail());
            case DEVIATION -> throw new TestAbortedException("documented deviation: " + c.detail());
            case FAIL -> throw new AssertionError(it.name() + ": " + c.detail() + "\n" + c.text()
                    + (c.peerLog().isEmpty() ? "" : "\npeer log during the case:\n" + c.peerLog()));
        }
    }

    private static String firstLine(String s) {
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i) + " ...";
    }

    static Path reportDir() {
        return InteropMatrixIT.reportDir();
    }

    @AfterAll
    static void report() throws Exception {
        try {
            if (skipped) {
                return;
            }
            List<ConformanceReport.Cell> cells = new ArrayList<>();
            for (Item it : ITEMS) {
                ConformanceReport.Cell c = it.result.isDone() && !it.result.isCompletedExceptionally()
                        ? it.result.getNow(null) : null;
                if (c == null) {
                    c = new ConformanceReport.Cell(it.fixture.id(), it.fixture.transport(), it.target, Outcome.FAIL,
                            "not run", "", "", "", 0);
                }
                cells.add(c);
            }
            ConformanceReport cr = new ConformanceReport(cells, (System.nanoTime() - T0) / 1_000_000, selection);
            ConformanceReport.publish(cr);
            Path dir = reportDir();
            Path logs = dir.resolve("conformance-logs");
            Files.createDirectories(logs);
            for (Map.Entry<String, PeerRuntime.Running> e : RUNNING.entrySet()) {
                Files.writeString(logs.resolve("conformance-" + e.getKey() + ".log"), e.getValue().logs(),
                        StandardCharsets.UTF_8);
            }
            List<Role> roles = new ArrayList<>(ROLES.values());
            INBOUNDS.values().forEach(m -> m.values().stream().filter(in -> in.own != null)
                    .forEach(in -> roles.add(in.own)));
            for (Role role : roles) {
                for (Map.Entry<String, String> f : role.configFiles().entrySet()) {
                    Files.writeString(logs.resolve(role.name + "." + f.getKey()), f.getValue(),
                            StandardCharsets.UTF_8);
                }
            }
            Report matrix = Report.last;
            Report report = matrix != null ? matrix
                    : new Report(STARTED, cr.totalMillis, prepareMillis,
                    PeerToolchain.gitRevision(Path.of(System.getProperty("interop.basedir", ".")).toAbsolutePath()),
                    runtime == null ? System.getProperty("interop.runtime", "docker") : runtime.name(),
                    runtime == null ? String.valueOf(runtimeError) : runtime.describe(), PEER_INFO, List.of());
            report.write(dir);
            for (String line : cr.summaryLines()) {
                System.out.println("[conformance] " + line);
            }
            System.out.println("[conformance] report: " + dir.toAbsolutePath().resolve("index.html") + "#conformance");
        } finally {
            LANES.values().forEach(ExecutorService::shutdownNow);
            if (runtime != null) {
                runtime.close();
            }
        }
    }
}
