package dev.tunnelwire.conformance;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Command-line runner: replays the fixtures of one transport and role against an implementation and prints a
 * per-case table; writes {@code index.json}, {@code cases/<id>.json} and {@code TEST-conformance.xml} when
 * {@code --report-dir} is given. Exit status 0 when every selected case passed, 1 when any failed or errored or none
 * ran, 2 on bad usage.
 *
 * <pre>
 * Runner --transport ws --role server --target 127.0.0.1:8080 [--app 127.0.0.1:19999]
 * Runner --transport ws --role client --client-cmd "my-client --server {server} --listen {entry}"
 * Runner --transport ws --role server --impl          (tunnelwire in-process)
 * common: [--cases 'ws.server.early_data_*,ws.server.reject_*'] [--report-dir d] [--fixtures dir] [--list]
 *         [--peer sing-box|xray|gost]   (failures the fixtures document as that peer's deviation become DEVIATION)
 * </pre>
 */
public final class Runner {

    private Runner() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs with {@code args}; returns the exit status (the CLI's {@code conformance} command calls this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        String transport = null;
        String role = null;
        String targetAddr = null;
        String app = null;
        String clientCmd = null;
        String cases = null;
        String reportDir = null;
        String fixturesDir = null;
        String peer = null;
        boolean impl = false;
        boolean list = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--transport" -> transport = args[++i];
                    case "--role" -> role = args[++i].toLowerCase(Locale.ROOT);
                    case "--target" -> targetAddr = args[++i];
                    case "--app" -> app = args[++i];
                    case "--client-cmd" -> clientCmd = args[++i];
                    case "--cases" -> cases = args[++i];
                    case "--report-dir" -> reportDir = args[++i];
                    case "--fixtures" -> fixturesDir = args[++i];
                    case "--impl" -> impl = true;
                    case "--peer" -> peer = args[++i];
                    case "--list", "--dryrun" -> list = true;
                    case "-h", "--help" -> {
                        usage(out);
                        return 0;
                    }
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
            if (role != null && !role.equals("client") && !role.equals("server")) {
                throw new IllegalArgumentException("--role must be client or server");
            }
            if (!list && !impl && targetAddr == null && clientCmd == null) {
                throw new IllegalArgumentException("give --target host:port (server role), --client-cmd (client role) "
                        + "or --impl");
            }
        } catch (RuntimeException e) {
            err.println("conformance: " + e.getMessage());
            usage(err);
            return 2;
        }
        List<Fixture> all = fixturesDir != null ? FixtureLoader.load(Path.of(fixturesDir))
                : FixtureLoader.loadFromClassPath();
        List<Fixture> selected = new ArrayList<>();
        for (Fixture f : FixtureLoader.select(all, cases)) {
            if ((transport == null || f.transport().equals(transport))
                    && (role == null || f.role().name().equalsIgnoreCase(role))) {
                selected.add(f);
            }
        }
        if (list) {
            for (Fixture f : selected) {
                out.printf("%-55s %-8s %s%n", f.id(), f.kind(), f.title());
            }
            out.println(selected.size() + " cases");
            return selected.isEmpty() ? 1 : 0;
        }
        if (selected.isEmpty()) {
            err.println("conformance: no case matches transport=" + transport + " role=" + role + " cases=" + cases);
            return 1;
        }
        Target target = impl ? new ImplTarget()
                : new ExternalTarget(transport, targetAddr == null ? null : address(targetAddr),
                app == null ? null : address(app), clientCmd);
        List<CaseResult> results = new ArrayList<>();
        Engine engine = new Engine();
        try (target) {
            for (Fixture f : selected) {
                CaseResult r = engine.run(f, target).asDeviationOf(peer);
                results.add(r);
                if (r.status() == CaseResult.Status.FAIL || r.status() == CaseResult.Status.ERROR) {
                    err.print(r.failureText());
                }
            }
        }
        Reports.table(results, out);
        if (reportDir != null) {
            try {
                Reports.write(results, target.name(), Path.of(reportDir));
                out.println("reports written to " + Path.of(reportDir).toAbsolutePath());
            } catch (java.io.IOException e) {
                err.println("conformance: cannot write reports: " + e);
                return 1;
            }
        }
        boolean ok = results.stream().noneMatch(r -> r.status() == CaseResult.Status.FAIL
                || r.status() == CaseResult.Status.ERROR)
                && results.stream().anyMatch(CaseResult::passed);
        return ok ? 0 : 1;
    }

    static InetSocketAddress address(String hostPort) {
        int c = hostPort.lastIndexOf(':');
        if (c < 0) {
            throw new IllegalArgumentException("expected host:port, got " + hostPort);
        }
        String host = hostPort.substring(0, c).replace("[", "").replace("]", "");
        return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(c + 1)));
    }

    private static void usage(PrintStream out) {
        out.println("usage: conformance --transport T [--role client|server]");
        out.println("         (--target host:port [--app host:port] | --client-cmd 'cmd {server} {entry}' | --impl)");
        out.println("         [--cases glob,glob] [--report-dir dir] [--fixtures dir] [--peer name] [--list]");
    }
}
