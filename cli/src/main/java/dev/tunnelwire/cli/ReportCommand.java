package dev.tunnelwire.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code tunnelwire report}: runs the project's main job — the conformance suite and the interop matrix against the
 * real peers, building what is missing — from a checkout of the project, and prints the summary and the report's path.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Runs the conformance + interop report from a tunnelwire checkout (builds the peers and starts",
                "Docker when needed) and prints where the report is and its counts."},
        footer = {"", "Example:", "  tunnelwire report --project ~/src/tunnelwire"})
final class ReportCommand implements Callable<Integer> {

    @Option(names = "--project", paramLabel = "DIR",
            description = "The tunnelwire checkout (default: $TUNNELWIRE_HOME, else the current directory or a parent)")
    Path project;

    @Override
    public Integer call() throws Exception {
        Path root = project != null ? project : locate();
        if (root == null || !Files.isExecutable(root.resolve("scripts/report.sh"))) {
            org.slf4j.LoggerFactory.getLogger(ReportCommand.class)
                    .error("no tunnelwire checkout found (scripts/report.sh); use --project");
            return 2;
        }
        List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("scripts/report.sh").toString()));
        Process p = new ProcessBuilder(cmd).directory(root.toFile()).inheritIO().start();
        return p.waitFor();
    }

    private static Path locate() {
        String home = System.getenv("TUNNELWIRE_HOME");
        if (home != null) {
            return Path.of(home);
        }
        for (File d = new File("").getAbsoluteFile(); d != null; d = d.getParentFile()) {
            if (new File(d, "scripts/report.sh").exists() && new File(d, "interop-docker").isDirectory()) {
                return d.toPath();
            }
        }
        return null;
    }
}
