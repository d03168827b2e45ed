package dev.tunnelwire.cli;

/**
 * Turns SIGINT and SIGTERM into a clean stop: the callback runs (services close) and the command returns 0, instead
 * of the JVM's default exit status 130/143. Falls back to a shutdown hook where signals cannot be handled.
 */
final class Signals {

    private Signals() {
    }

    @SuppressWarnings("restriction")
    static void onTermination(Runnable stop) {
        try {
            for (String name : new String[] {"TERM", "INT"}) {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> stop.run());
            }
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            Runtime.getRuntime().addShutdownHook(new Thread(stop, "tunnelwire-stop"));
        }
    }
}
