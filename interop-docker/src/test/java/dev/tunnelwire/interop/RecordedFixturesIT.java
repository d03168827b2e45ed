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
 * <p>{@code -Dinterop.runtime=docker|process} as for the matrix; {@code -Drecord.pairs=<regex>} selects pairs by key.
 */
class RecordedFixturesIT {

    private static PeerRuntime runtime;
    private static FixtureRecorder recorder;

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
        FixtureNormaliser.Fixtures f;
        try {
            f = FixtureNormaliser.normalise(r.pair(), r.recording());
        } catch (RuntimeException e) {
            throw new AssertionError("cannot normalise the recording of " + r.pair().key() + ": " + e.getMessage()
                    + "\n\nraw recording:\n" + RecordedFixtureFiles.pretty(r.recording().toJson()), e);
        }
        if (write) {
            RecordedFixtureFiles.write(f.server());
            RecordedFixtureFiles.write(f.client());
            RecordedFixtureFiles.writeRecording(r.pair(), r.recording());
            System.out.println("[recorder] wrote " + RecordedFixtureFiles.fixtureFile(f.server()).getFileName() + ", "
                    + RecordedFixtureFiles.fixtureFile(f.client()).getFileName());
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

    @AfterAll
    static void close() {
        if (recorder != null) {
            recorder.close();
        }
        if (runtime != null) {
            runtime.close();
        }
    }
}
