package dev.tunnelwire.cli;

import dev.tunnelwire.conformance.Runner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code tunnelwire conformance}: replays the language-neutral fixtures of one transport and role against an
 * implementation (another port's server or client, or tunnelwire itself) and prints a per-case table; the options are
 * the conformance runner's ({@code docs/transports/conformance.md}).
 */
@Command(name = "conformance",
        description = {"Runs the conformance fixtures of one transport and role against an implementation:",
                "  --transport T --role server|client (--target HOST:PORT | --client-cmd CMD | --impl)",
                "  [--cases GLOBS] [--report-dir DIR] [--peer NAME] [--list]",
                "Options are the conformance runner's (see docs/transports/conformance.md); exit 0 when every",
                "selected case passed."},
        footer = {"", "Examples:",
                "  tunnelwire conformance --transport ws --role server --impl",
                "  tunnelwire conformance --transport ws --role server --target 127.0.0.1:8080 --report-dir out",
                "  tunnelwire conformance --transport pht --role server --list"})
final class ConformanceCommand implements Callable<Integer> {

    /** Everything is passed to the runner as given. */
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
        return Runner.run(args.toArray(new String[0]), System.out, System.err);
    }
}
