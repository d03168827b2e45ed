package dev.tunnelwire.conformance.maven;

import dev.tunnelwire.conformance.Runner;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code tunnel-conformance:run}: replays the tunnelwire conformance fixtures against an implementation, exactly like
 * {@code tunnelwire conformance} (same options, see docs/transports/conformance.md), and fails the build when a case
 * fails. Reports (index.json, cases/*.json, TEST-conformance.xml) go to {@code reportDir}.
 *
 * <pre>
 * mvn dev.tunnelwire:tunnelwire-conformance-maven-plugin:0.1.0-SNAPSHOT:run \
 *     -Dconformance.transport=ws -Dconformance.role=server -Dconformance.target=127.0.0.1:8080
 * </pre>
 */
@Mojo(name = "run", defaultPhase = LifecyclePhase.VERIFY, requiresProject = false, threadSafe = true)
public final class RunMojo extends AbstractMojo {

    /** Transport or proxy protocol ({@code ws}, {@code grpc}, {@code vless}, ...). */
    @Parameter(property = "conformance.transport", required = true)
    String transport;

    /** {@code server} or {@code client}: the role of the implementation under test. */
    @Parameter(property = "conformance.role")
    String role;

    /** Server role: {@code host:port} of the server under test. */
    @Parameter(property = "conformance.target")
    String target;

    /** Server role: where the engine plays the application (default 127.0.0.1:19999). */
    @Parameter(property = "conformance.app")
    String app;

    /** Client role: the command that starts the client under test ({@code {server}}, {@code {entry}} placeholders). */
    @Parameter(property = "conformance.clientCommand")
    String clientCommand;

    /** Comma-separated id globs. */
    @Parameter(property = "conformance.cases")
    String cases;

    /** A reference peer name: failures its fixtures document as that peer's deviation do not fail the build. */
    @Parameter(property = "conformance.peer")
    String peer;

    /** Fixture directory instead of the packaged fixtures. */
    @Parameter(property = "conformance.fixtures")
    File fixtures;

    /** Run against tunnelwire in-process. */
    @Parameter(property = "conformance.impl", defaultValue = "false")
    boolean impl;

    @Parameter(property = "conformance.reportDir", defaultValue = "${project.build.directory}/conformance-reports")
    File reportDir;

    @Parameter(property = "conformance.failOnError", defaultValue = "true")
    boolean failOnError;

    @Parameter(property = "conformance.skip", defaultValue = "false")
    boolean skip;

    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        if (skip) {
            getLog().info("conformance: skipped");
            return;
        }
        List<String> args = new ArrayList<>(List.of("--transport", transport));
        add(args, "--role", role);
        add(args, "--target", target);
        add(args, "--app", app);
        add(args, "--client-cmd", clientCommand);
        add(args, "--cases", cases);
        add(args, "--peer", peer);
        add(args, "--fixtures", fixtures == null ? null : fixtures.getAbsolutePath());
        if (impl) {
            args.add("--impl");
        }
        File reports = reportDir != null ? reportDir : new File("target/conformance-reports");
        add(args, "--report-dir", reports.getAbsolutePath());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = Runner.run(args.toArray(String[]::new), o, e);
        } catch (RuntimeException e) {
            throw new MojoExecutionException("conformance runner failed: " + e.getMessage(), e);
        }
        out.toString(StandardCharsets.UTF_8).lines().forEach(getLog()::info);
        err.toString(StandardCharsets.UTF_8).lines().forEach(getLog()::warn);
        if (status == 2) {
            throw new MojoExecutionException("bad conformance parameters: " + String.join(" ", args));
        }
        if (status != 0 && failOnError) {
            throw new MojoFailureException("conformance cases failed; reports in " + reports);
        }
    }

    private static void add(List<String> args, String flag, String value) {
        if (value != null && !value.isBlank()) {
            args.add(flag);
            args.add(value);
        }
    }
}
