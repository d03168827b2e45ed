package dev.tunnelwire.interop;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Re-records every pair of {@link RecordedPairs} against the pinned peers and checks that the committed recorded
 * fixtures ({@code fixtures/<transport>/<transport>.<role>.recorded_*.json}) are still what the peers produce
 * (normalised equality; a mismatch fails with a line diff). With {@code -Drecord.write=true} it rewrites the
 * fixtures and the raw recordings ({@code src/test/resources/recordings/}) instead: run that after bumping a peer, then
 * review the diff, run the conformance suite, and commit.
 *
 * <p>Both fixtures of every pair are also replayed against tunnelwire in-process (the conformance engine), so a peer
 * change that the implementation does not follow fails here with the engine's report, before anything is written.
 *
 * <p>{@code -Dinterop.runtime=docker|process} as for the matrix; {@code -Drecord.pairs=<regex>} selects pairs by key.
 */
class RecordedFixturesIT {

    private static PeerRuntime runtime;
    private static FixtureRecorder recorder;
    private static dev.tunnelwire.conformance.ImplTarget impl;

    @TestFactory
    Stream<DynamicTest> recordedFixtures() throws Exception {
        boolean write = Boolean.getBoolean("record.write");
        String only = System.getProperty("record.pairs", "");
        List<RecordedPair> pairs = RecordedPairs.all().stream()
                .filter(p -> only.isBlank() || Pattern.compile(only).matcher(p.key()).find()).toList();
        PeerToolchain toolchain = new PeerToolchain();
        String which = System.getProperty("interop.runtime", "docker");
        runtime = switch (which) {
            case "docker" -> new DockerPeerRuntime(toolchain);
            case "process" -> new ProcessPeerRuntime(Path.of(System.getProperty("interop.reportDir",
                    "target/interop-report")).resolve("recorder-work"));
            default -> throw new IllegalArgumentException("-Dinterop.runtime must be docker or process");
        };
        long t0 = System.nanoTime();
        runtime.prepare();
        recorder = new FixtureRecorder(runtime, toolchain);
        List<FixtureRecorder.Result> results = recorder.record(pairs);
        System.out.printf("[recorder] %d pairs recorded on %s in %d ms%n", pairs.size(), runtime.name(),
                (System.nanoTime() - t0) / 1_000_000);
        List<DynamicTest> tests = new ArrayList<>();
        for (FixtureRecorder.Result r : results) {
            tests.add(DynamicTest.dynamicTest(r.pair().key(), () -> check(r, write)));
        }
        return tests.stream();
    }

    private static void check(FixtureRecorder.Result r, boolean write) throws Exception {
        if (r.error() != null) {
            fail("recording " + r.pair().key() + " failed: " + r.error() + "\n\npeer logs:\n" + r.peerLogs());
        }
        // the fixtures the peers produce now must pass against tunnelwire (written or not): a peer change that our
        // implementation does not follow shows here, with the engine's report
        List<String> failures = new ArrayList<>();
        FixtureNormaliser.Fixtures f;
        try {
            f = FixtureNormaliser.normalise(r.pair(), r.recording());
        } catch (RuntimeException e) {
            throw new AssertionError("cannot normalise the recording of " + r.pair().key() + ": " + e.getMessage()
                    + "\n\nraw recording:\n" + RecordedFixtureFiles.pretty(r.recording().toJson()), e);
        }
        for (var fx : List.of(f.server(), f.client())) {
            var fixture = dev.tunnelwire.conformance.FixtureLoader.parse(fx, fx.get("transport").asText(),
                    fx.get("id").asText() + ".json", "recorded now");
            var result = new dev.tunnelwire.conformance.Engine().run(fixture, impl());
            if (!result.passed()) {
                failures.add(result.failureText());
            }
        }
        if (write) {
            RecordedFixtureFiles.write(f.server());
            RecordedFixtureFiles.write(f.client());
            RecordedFixtureFiles.writeRecording(r.pair(), r.recording());
            System.out.println("[recorder] wrote " + RecordedFixtureFiles.fixtureFile(f.server()).getFileName() + ", "
                    + RecordedFixtureFiles.fixtureFile(f.client()).getFileName());
        }
        if (!failures.isEmpty()) {
            fail("the fixtures recorded now fail against tunnelwire (our bug, or a peer change to normalise):\n"
                    + String.join("\n", failures));
        }
        if (write) {
            return;
        }
        List<String> diffs = new ArrayList<>();
        for (var fx : List.of(f.server(), f.client())) {
            String d = RecordedFixtureFiles.diff(fx);
            if (d != null) {
                diffs.add(d);
            }
        }
        if (!diffs.isEmpty()) {
            fail(String.join("\n", diffs) + "\nIf the peers changed on purpose, re-record with -Drecord.write=true "
                    + "(docs/transports/conformance.md, \"Recorded fixtures\").\n\nraw recording:\n"
                    + RecordedFixtureFiles.pretty(r.recording().toJson()));
        }
    }

    private static synchronized dev.tunnelwire.conformance.ImplTarget impl() {
        if (impl == null) {
            impl = new dev.tunnelwire.conformance.ImplTarget();
        }
        return impl;
    }

    @AfterAll
    static void close() {
        if (impl != null) {
            impl.close();
        }
        if (recorder != null) {
            recorder.close();
        }
        if (runtime != null) {
            runtime.close();
        }
    }
}
