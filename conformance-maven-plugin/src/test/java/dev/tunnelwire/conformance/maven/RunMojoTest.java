package dev.tunnelwire.conformance.maven;

import org.apache.maven.plugin.MojoFailureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The goal drives the runner: passes and writes reports for passing cases, fails the build for failing ones. */
class RunMojoTest {

    private static RunMojo mojo(Path reports, String cases) {
        RunMojo m = new RunMojo();
        m.transport = "tcp";
        m.impl = true;
        m.cases = cases;
        m.reportDir = reports.toFile();
        m.failOnError = true;
        return m;
    }

    @Test
    void passingCasesPassAndWriteReports(@TempDir Path dir) throws Exception {
        mojo(dir, "tcp.server.echo_both_ways,tcp.client.first_payload").execute();
        assertTrue(Files.readString(dir.resolve("TEST-conformance.xml")).contains("name=\"tcp.server.echo_both_ways\""));
        assertTrue(Files.exists(dir.resolve("index.json")));
    }

    @Test
    void noMatchingCaseFailsTheBuild(@TempDir Path dir) {
        assertThrows(MojoFailureException.class, () -> mojo(dir, "tcp.server.no_such_case").execute());
    }
}
