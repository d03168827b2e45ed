package dev.tunnelwire.interop;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to start one peer role (one process or container hosting all the inbounds/outbounds of that role,
 * each on its own port).
 *
 * <p>The token {@value #DIR} in {@code args} and in the file contents stands for the directory the files are placed
 * in: {@code /peer} inside a container, a work directory for a plain process. The peer runs with that directory as
 * its working directory.
 *
 * @param role   role name, e.g. {@code gost-server}
 * @param peer   peer name from {@code versions.properties}
 * @param binary the statically linked peer binary on the host; {@code null} when the runtime uses an official image
 * @param args   command-line arguments (without the binary)
 * @param files  file name → text content, placed in {@value #DIR}
 * @param ports  127.0.0.1 ports the peer must be listening on before it counts as started
 */
public record PeerLaunch(String role, String peer, Path binary, List<String> args, Map<String, String> files,
                         List<Integer> ports) {

    /** Placeholder for the peer's file directory. */
    public static final String DIR = "@DIR@";

    public PeerLaunch {
        args = List.copyOf(args);
        files = Map.copyOf(files);
        ports = List.copyOf(ports);
    }

    List<String> argsIn(String dir) {
        return args.stream().map(a -> a.replace(DIR, dir)).toList();
    }

    String fileIn(String name, String dir) {
        return files.get(name).replace(DIR, dir);
    }
}
