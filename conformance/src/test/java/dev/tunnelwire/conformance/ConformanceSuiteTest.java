package dev.tunnelwire.conformance;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Replays every fixture against tunnelwire in-process, one dynamic test per case named by its id.
 *
 * <ul>
 *   <li>A missing fixtures jar or an empty fixture set fails (never skips).</li>
 *   <li>{@code pinned-ids.txt} pins the set of ids: a fixture cannot disappear or be renamed silently, and a new one
 *       must be added there (grpc's TestCasesTest).</li>
 *   <li>{@code pending-transports.txt} lists the transports and protocols whose implementation has not landed on this
 *       branch yet: their cases are reported as skipped with that reason. A pending transport that becomes available
 *       fails {@link #pendingTransportsAreReallyPending}, so the list cannot go stale.</li>
 *   <li>{@code known-failures.txt} lists cases that fail because of an open implementation bug (id, then the
 *       reason): those must still fail, so a fix is noticed and the entry removed.</li>
 * </ul>
 */
class ConformanceSuiteTest {

    private static List<Fixture> fixtures;
    private static ImplTarget target;

    @BeforeAll
    static void load() {
        fixtures = FixtureLoader.loadFromClassPath();
        target = new ImplTarget();
    }

    @AfterAll
    static void close() {
        if (target != null) {
            target.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> fixtures() {
        assertFalse(fixtures.isEmpty(), "no fixtures found on the class path");
        Set<String> pending = lines("pending-transports.txt").keySet();
        Map<String, String> known = lines("known-failures.txt");
        Engine engine = new Engine();
        return fixtures.stream().map(f -> DynamicTest.dynamicTest(f.id(), () -> {
            assumeTrue(!pending.contains(f.transport()),
                    "transport '" + f.transport() + "' has not landed in impl on this branch (pending-transports.txt)");
            CaseResult r = engine.run(f, target);
            if (known.containsKey(f.id())) {
                assertFalse(r.passed(), f.id() + " passes now: remove it from known-failures.txt ("
                        + known.get(f.id()) + ")");
                return;
            }
            if (!r.passed()) {
                fail(r.failureText());
            }
        }));
    }

    @Test
    void pinnedIdsMatchFixtures() {
        Set<String> pinned = new TreeSet<>(lines("pinned-ids.txt").keySet());
        Set<String> actual = fixtures.stream().map(Fixture::id).collect(Collectors.toCollection(TreeSet::new));
        Set<String> missing = new TreeSet<>(pinned);
        missing.removeAll(actual);
        Set<String> unpinned = new TreeSet<>(actual);
        unpinned.removeAll(pinned);
        assertTrue(missing.isEmpty(), "pinned fixture ids have disappeared (ids are never renamed or removed; "
                + "retire them in retired-ids.txt): " + missing);
        assertTrue(unpinned.isEmpty(), "new fixture ids must be added to pinned-ids.txt: " + unpinned);
        Set<String> retired = lines("retired-ids.txt").keySet();
        for (String id : retired) {
            assertFalse(actual.contains(id), "retired id reused: " + id);
        }
    }

    @Test
    void pendingTransportsAreReallyPending() {
        for (String t : lines("pending-transports.txt").keySet()) {
            assertFalse(target.supports(t), "'" + t + "' is available in impl now: remove it from "
                    + "pending-transports.txt so its fixtures run");
        }
    }

    @Test
    void everyTransportHasAtLeastTenCasesAndBothRoles() {
        Map<String, List<Fixture>> by = fixtures.stream().collect(Collectors.groupingBy(Fixture::transport,
                TreeMap::new, Collectors.toList()));
        for (Map.Entry<String, List<Fixture>> e : by.entrySet()) {
            assertTrue(e.getValue().size() >= 10, e.getKey() + " has only " + e.getValue().size() + " cases");
            Set<Fixture.Role> roles = e.getValue().stream().map(Fixture::role).collect(Collectors.toSet());
            assertEquals(Set.of(Fixture.Role.CLIENT, Fixture.Role.SERVER), roles, e.getKey() + " lacks a role");
        }
    }

    @Test
    void knownFailuresNameExistingCases() {
        Set<String> ids = fixtures.stream().map(Fixture::id).collect(Collectors.toSet());
        for (String id : lines("known-failures.txt").keySet()) {
            assertTrue(ids.contains(id), "known-failures.txt names an unknown case " + id);
        }
    }

    /** Non-comment lines of a test resource: first word, then the rest. */
    static Map<String, String> lines(String resource) {
        try (InputStream in = ConformanceSuiteTest.class.getResourceAsStream("/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            Map<String, String> out = new LinkedHashMap<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String l = line.strip();
                if (l.isEmpty() || l.startsWith("#")) {
                    continue;
                }
                int sp = l.indexOf(' ');
                out.put(sp < 0 ? l : l.substring(0, sp), sp < 0 ? "" : l.substring(sp + 1).strip());
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
