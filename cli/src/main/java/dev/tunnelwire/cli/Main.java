package dev.tunnelwire.cli;

import dev.tunnelwire.TransportRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code tunnelwire} command. Without a subcommand it runs tunnels like gost: {@code -L} services and {@code -F}
 * chain nodes, or a gost-style config file with {@code -C}. It stops cleanly on SIGINT/SIGTERM (services closed,
 * exit status 0).
 */
@Command(name = "tunnelwire", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {"Runs HTTP-family proxy tunnels, wire-compatible with sing-box, Xray-core and gost.", ""},
        subcommands = {ReportCommand.class, ConformanceCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Examples:",
                "  # a relay server over WebSocket, and a local HTTP/SOCKS5 proxy that uses it:",
                "  tunnelwire -L \"relay+ws://127.0.0.1:8080?path=/ws\"",
                "  tunnelwire -L \"auto://127.0.0.1:1080\" -F \"relay+ws://127.0.0.1:8080?path=/ws\"",
                "",
                "  # an authenticated HTTP CONNECT proxy, and a port forward through it:",
                "  tunnelwire -L \"http://user:pass@127.0.0.1:8081\"",
                "  tunnelwire -L \"tcp://127.0.0.1:2222/127.0.0.1:22\" -F \"http://user:pass@127.0.0.1:8081\"",
                "",
                "  # gost's config format (YAML, or JSON for *.json and inline '{...}'):",
                "  tunnelwire -C tunnels.yaml",
                "",
                "In a config file a listener or dialer takes gost's type/metadata/tls, or sing-box's transport and tls",
                "objects, or Xray's streamSettings object, with the peers' field names; unknown or unsupported fields",
                "are errors naming the field's path and line:column (see docs/cli.md).",
                "",
                "Scheme rules follow gost: ws:// is auto+ws, http:// is http+tcp, -F ws:// is http+ws; TLS forms",
                "(tls, wss, phts, grpc unless grpcInsecure=true) use cert/key files, or a self-signed certificate."})
public final class Main implements Callable<Integer> {

    @Option(names = "-L", paramLabel = "URL",
            description = "A service: [handler+listener://][user:pass@][host]:port[/target][?key=value...]")
    List<String> services = new ArrayList<>();

    @Option(names = "-F", paramLabel = "URL",
            description = "A chain node (one hop each): [connector+dialer://][user:pass@]host:port[?key=value...]")
    List<String> nodes = new ArrayList<>();

    @Option(names = "-C", paramLabel = "FILE", description = "Config file: gost's structure (YAML or JSON, or inline JSON); listeners and dialers may use"
                    + " sing-box transport/tls or Xray streamSettings objects")
    String config;

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
            description = "trace, debug, info, warn or error (default: ${DEFAULT-VALUE})")
    String logLevel;

    @Option(names = "-D", description = "Same as --log-level debug")
    boolean debug;

    @Option(names = "--dry-run", description = "Print the services and chains the arguments describe, then exit")
    boolean dryRun;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command; returns the exit status. */
    static int run(String... args) {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    @Override
    public Integer call() throws Exception {
        Logging.configure(debug ? "debug" : logLevel);
        if (services.isEmpty() && config == null) {
            spec.commandLine().usage(spec.commandLine().getErr());
            return 2;
        }
        Schemes schemes = new Schemes(TransportRegistry.defaultRegistry());
        Specs.Config cfg;
        try {
            cfg = config != null ? ConfigFile.load(config, schemes) : new CmdLine(schemes).build(services, nodes);
            if (config != null && !services.isEmpty()) {
                throw new IllegalArgumentException("use either -C or -L/-F, not both");
            }
        } catch (IllegalArgumentException | java.io.IOException e) {
            spec.commandLine().getErr().println("tunnelwire: " + e.getMessage());
            return 2;
        }
        if (dryRun) {
            PrintWriter out = spec.commandLine().getOut();
            cfg.chains().forEach(c -> out.println(c));
            cfg.services().forEach(s -> out.println(s));
            out.flush();
            return 0;
        }
        CountDownLatch stop = new CountDownLatch(1);
        Launcher launcher = new Launcher(TransportRegistry.defaultRegistry());
        Signals.onTermination(stop::countDown);
        try {
            launcher.start(cfg);
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("tunnelwire: " + e.getMessage());
            return 2;
        }
        stop.await();
        org.slf4j.LoggerFactory.getLogger(Main.class).info("stopping: closing services");
        launcher.close();
        return 0;
    }

    /** Version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"tunnelwire " + (v == null ? "(development build)" : v)};
        }
    }
}
